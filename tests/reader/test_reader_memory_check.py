"""The Reader's memory check (``_state.check_fits_memory``) counts a lower bound of its parameters: a repeated
``probe_inputs`` size shares one query bank, so it is counted once."""

from __future__ import annotations

import pytest

import metanet._state as state
from metanet.errors import ConfigError
from metanet.reader.model import Reader

# 64 probes over ten copies of 784: ~276k parameters (~1.1 MB) built; the old bound counted ten banks (~2.3 MB)
KW = dict(hidden=1, probes=64, probe_inputs=[784] * 10)


def test_repeated_probe_sizes_fit_a_memory_that_holds_the_reader(monkeypatch):
    built = Reader(**KW)
    need = 4 * (sum(p.numel() for p in built.parameters()) + sum(b.numel() for b in built.buffers()))
    monkeypatch.setattr(state, "physical_memory", lambda: int(need * 1.2))  # the reader fits, with room to spare
    r = Reader(**KW)
    assert r.config["probe_inputs"] == [784] * 10


def test_a_reader_larger_than_memory_is_still_refused(monkeypatch):
    monkeypatch.setattr(state, "physical_memory", lambda: 100_000)
    with pytest.raises(ConfigError, match="more than this machine's"):
        Reader(**KW)
