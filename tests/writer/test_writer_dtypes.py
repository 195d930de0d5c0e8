"""The writer given as a user may have it (another dtype, the meta device, train mode) and support sets as a user may
have them (float64, uint8 0..255 and bool images read as generate reads them, numpy, no channel dimension); other
integer inputs refused naming what is taken."""

from __future__ import annotations

import copy

import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import ConfigError, TaskError
from metanet.tasks.resolve import as_examples
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


def test_write_reads_uint8_and_bool_images_as_generate_does(trained, digits):
    # write refused uint8 (a TaskError) while generate / tasks.from_examples divide it by 255: the same images must
    # give the same support set, hence the same weights, bit for bit
    x, y = digits.split("train")
    x8 = (x[:120] * 255).round().to(torch.uint8)
    y = y[:120]
    with torch.no_grad():
        want = trained.write("mlp:64-16-10:relu", as_examples(x8, y)[0], y, 10, candidates=2, seed=3)
        got = trained.write("mlp:64-16-10:relu", x8, y, 10, candidates=2, seed=3)
        assert all(torch.equal(want[k], got[k]) for k in want)
        xb = x[:120] > 0.5
        want = trained.write("mlp:64-16-10:relu", xb.float(), y, 10, seed=3)
        got = trained.write("mlp:64-16-10:relu", xb.numpy(), y, 10, seed=3)
        assert all(torch.equal(want[k], got[k]) for k in want)


def test_write_still_refuses_other_integer_inputs_naming_what_is_taken(untrained, digits):
    x, y = digits.split("train")
    with pytest.raises(TaskError,
                       match=r"support inputs have dtype torch\.int16; use floating point .*or uint8 values 0\.\.255"):
        untrained.write("mlp:64-16-10:relu", (x[:50] * 255).to(torch.int16), y[:50], 10)
