"""The writer given as a user may have it (another dtype, the meta device, train mode) and support sets as a user may
have them (float64, uint8 0..255, numpy, no channel dimension)."""

from __future__ import annotations

import copy

import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import ConfigError
from metanet.writer import Writer


@pytest.fixture(scope="module")
def writer():
    return Writer.load()


@pytest.mark.parametrize("change", [lambda w: w.double(), lambda w: w.half(), lambda w: w.bfloat16(),
                                    lambda w: w.to("meta")])
def test_a_writer_in_another_dtype_or_on_meta_is_a_config_error(writer, change):
    """Raw 'mat1 and mat2 must have the same dtype' / device mismatches from inside the writer's layers."""
    w = change(copy.deepcopy(writer))
    with pytest.raises(ConfigError, match=r"float32|'meta' device"):
        metanet.generate("digits", candidates=1, writer=w)
    x, y = tasks.get("digits").split("train")
    with pytest.raises(ConfigError, match=r"writer.float\(\)|Writer.load"):
        w.write("mlp:64-16-10:relu", x, y)


def test_a_cnn_support_set_without_its_channel_dimension_says_how_to_add_it(writer):
    from metanet.errors import ArchError

    x, y = tasks.get("digits").split("train")
    with pytest.raises(ArchError, match=r"x\[:, None\]"):
        metanet.generate((x[:300, 0], y[:300]), arch="cnn:1-8-10:relu:k3:s1", candidates=1, writer=writer)
    metanet.generate((x[:300], y[:300]), arch="cnn:1-8-10:relu:k3:s1", candidates=1, writer=writer)


def test_support_sets_as_a_user_has_them_write_the_same_network(writer):
    """float64 and numpy support sets are the float32 one; uint8 images 0..255 are divided by 255, not used raw."""
    x, y = tasks.get("digits").split("train")
    x, y = x[:300], y[:300]
    want = metanet.generate((x, y), candidates=2, writer=writer)
    for given in [(x.double(), y), (x.numpy(), y.numpy())]:
        got = metanet.generate(given, candidates=2, writer=writer)
        assert all(torch.equal(a, b) for a, b in zip(want.model.parameters(), got.model.parameters()))
    x8 = (x * 255).round().to(torch.uint8)
    got = metanet.generate((x8, y), candidates=2, writer=writer)
    assert got.report.test.accuracy == pytest.approx(want.report.test.accuracy, abs=0.05)
    assert {p.dtype for p in writer.parameters()} == {torch.float32} and not writer.training
