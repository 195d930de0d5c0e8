"""The writer's ``candidates`` memory check is the shared one (``_state.check_fits_memory``): too many weight sets for
the machine's memory are a TaskError naming the count, also where the memory is unknown."""

from __future__ import annotations

import pytest
import torch

import metanet._state as state
from metanet.errors import TaskError


def _support(n: int = 4):
    g = torch.Generator().manual_seed(0)
    return torch.rand(2 * n, 64, generator=g), torch.arange(2).repeat(n)


def test_writer_candidates_use_the_shared_memory_check(monkeypatch):
    from metanet.writer import Writer

    writer = Writer().eval()
    x, y = _support()
    # the shared check reads the machine's memory: too little for 2 weight sets of 538 parameters, 3 copies each
    monkeypatch.setattr(state, "physical_memory", lambda: 1000)
    with pytest.raises(TaskError, match=r"^candidates=2 weight sets of mlp:64-8-2:relu need about 3,228 float32 "
                                        r"values, .* GiB, more than this machine's 0\.0 GiB of memory; give fewer "
                                        r"candidates$"):
        writer.write("mlp:64-8-2:relu", x, y, 2, candidates=2)
    # where the memory is unknown, 2**63 bytes bound it: a garbage count was not checked at all
    monkeypatch.setattr(state, "physical_memory", lambda: None)
    with pytest.raises(TaskError, match="more than this machine's memory; give fewer candidates"):
        writer.write("mlp:64-8-2:relu", x, y, 2, candidates=2**60)
