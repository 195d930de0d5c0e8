"""``metanet.load`` reads networks of at most ``metanet.io.MAX_LAYERS`` layers: one of exactly that many loads (the
limit is allowed, as save allows it), one more is refused. Checked at the real limit on the spec alone (building
10,000 layers takes seconds) and through save/load with the limit lowered."""

from __future__ import annotations

import pytest

import metanet
import metanet.io as mio
from metanet.errors import ArchError, FileFormatError
from metanet.nets import Arch, build


def test_a_spec_of_exactly_max_layers_is_read_and_one_more_refused():
    at = Arch(family="mlp", widths=(1,) * (mio.MAX_LAYERS + 1), activation="relu").to_dict()
    assert mio._checked_layers(at) == (mio.MAX_LAYERS, mio.MAX_LAYERS)
    over = dict(at, widths=at["widths"] + [1])
    with pytest.raises(ArchError, match=f"at most {mio.MAX_LAYERS:,}$"):
        mio._checked_layers(over)


def test_load_takes_a_network_of_exactly_the_limit(tmp_path, monkeypatch):
    three = metanet.save(build(Arch.parse("mlp:4-3-3-2"), seed=0), tmp_path / "three.safetensors")
    four = metanet.save(build(Arch.parse("mlp:4-3-3-3-2"), seed=0), tmp_path / "four.safetensors")
    monkeypatch.setattr(mio, "MAX_LAYERS", 3)
    assert len(metanet.load(three).layers) == 3
    with pytest.raises(FileFormatError, match="4 layers; metanet reads networks of at most 3"):
        metanet.load(four)
