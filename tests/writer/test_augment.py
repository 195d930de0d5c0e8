"""Support-set shift augmentation (metanet.writer.augment) and its use by the Writer; bad shifts and thresholds are
named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, MetanetError, TaskError
from metanet.writer import Writer
from metanet.writer.augment import SMOOTH, augment_support, neighbour_correlation, shift_copies


def _small(digits, per_class=10):
    x, y = digits.split("train")
    idx = torch.cat([torch.nonzero(y == c).flatten()[:per_class] for c in range(10)])
    return x[idx], y[idx]


def _permuted(x):
    perm = torch.randperm(x[0].numel(), generator=torch.Generator().manual_seed(0))
    return x.flatten(1)[:, perm].view_as(x)


def test_neighbour_correlation_tells_images_from_permuted_pixels(digits):
    x, _ = _small(digits, 30)
    assert neighbour_correlation(x) > SMOOTH  # 8x8 digits: the least smooth images of the data sets
    assert neighbour_correlation(_permuted(x)) < SMOOTH
    walks = torch.randn(64, 1, 40, generator=torch.Generator().manual_seed(1)).cumsum(-1)
    assert neighbour_correlation(walks) > SMOOTH  # 1-d signals (like mnist1d's)
    assert neighbour_correlation(walks.diff(dim=-1)) < SMOOTH  # their increments: independent noise
    assert neighbour_correlation(x.flatten(1)) is None  # flat inputs: no spatial axes
    assert neighbour_correlation(torch.zeros(5, 1, 4, 4)) is None  # nothing varies


def test_shift_copies_moves_by_one_position_with_replicated_edges():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    out = shift_copies(x)
    assert out.shape == (5, 1, 4, 4)
    torch.testing.assert_close(out[0], x[0])
    # every copy is the image moved by one pixel: its interior matches a slice of the original
    up, down, left, right = out[1:, 0]
    torch.testing.assert_close(up[1:], x[0, 0, :-1])
    torch.testing.assert_close(down[:-1], x[0, 0, 1:])
    torch.testing.assert_close(left[:, 1:], x[0, 0, :, :-1])
    torch.testing.assert_close(right[:, :-1], x[0, 0, :, 1:])
    torch.testing.assert_close(up[0], x[0, 0, 0])  # the edge row is replicated, not zero-filled
    sig = torch.arange(5.0).view(1, 1, 5)
    assert shift_copies(sig).tolist() == [[[0, 1, 2, 3, 4]], [[0, 0, 1, 2, 3]], [[1, 2, 3, 4, 4]]]
    with pytest.raises(MetanetError, match="shift_copies needs"):  # one CLI line, not a raw ValueError
        shift_copies(torch.zeros(3, 10))


def test_augment_support_only_for_small_image_supports(digits):
    x, y = _small(digits, 10)
    xa, ya = augment_support(x, y, "shift", below=100)
    assert xa.shape == (5 * len(x), *x.shape[1:]) and torch.equal(ya, y.repeat(5))
    torch.testing.assert_close(xa[: len(x)], x)  # the originals come first, unchanged
    for given in (augment_support(x, y, "none", 100),  # switched off
                  augment_support(x, y, "shift", 5),  # more examples per class than `below`
                  augment_support(_permuted(x), y, "shift", 100),  # no spatial structure
                  augment_support(x.flatten(1), y, "shift", 100)):  # flat inputs
        assert len(given[0]) == len(x)
    with pytest.raises(MetanetError, match="unknown support augmentation 'flip'; valid: none, shift"):
        augment_support(x, y, "flip", 100)


def test_writer_augments_small_image_supports_and_records_it(digits, tmp_path):
    x, y = _small(digits, 10)
    arch = "mlp:64-16-10:relu"
    on, off = Writer().eval(), Writer(augment="none").eval()
    with torch.no_grad():
        a1, a2 = on.write(arch, x, y, 10, seed=0), on.write(arch, x, y, 10, seed=0)
        b = off.write(arch, x, y, 10, seed=0)
        # what the writer does with augmentation is writing from the augmented support set
        manual = off.write(arch, *augment_support(x, y, "shift", 100), 10, seed=0)
    for k in a1:
        torch.testing.assert_close(a1[k], a2[k], rtol=0, atol=0)  # deterministic
        torch.testing.assert_close(a1[k], manual[k], rtol=0, atol=0)
    assert not torch.equal(a1["layers.0.weight"], b["layers.0.weight"])
    off.save(tmp_path / "w.safetensors")
    assert Writer.load(tmp_path / "w.safetensors").augment == "none"
    with pytest.raises(MetanetError, match="unknown support augmentation 'flip'"):
        Writer(augment="flip")
    with pytest.raises(MetanetError, match="augment_below .* must be an integer >= 0, got -1"):
        Writer(augment_below=-1)


def test_augment_support_leaves_inputs_with_more_than_two_spatial_axes_alone():
    # smooth 3-d volumes (n, C, D, H, W) passed the correlation test, then shift_copies raised a ValueError out of
    # Writer.write for an MLP that fits them
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 1, 4, 4, 4, generator=g).cumsum(-1).cumsum(-2).cumsum(-3)
    y = torch.arange(20) % 2
    assert neighbour_correlation(x) > SMOOTH
    xa, ya = augment_support(x, y, "shift", 100)
    assert xa is x and ya is y


@pytest.mark.parametrize("shift", [-1, 0, 1.5, True])
def test_shift_copies_refuses_a_shift_that_is_not_a_positive_whole_number(shift):
    # -1 was torch.cat's "Sizes of tensors must match", 1.5 and True a TypeError from F.pad; 0 five equal copies
    with pytest.raises(TaskError, match="shift must be a whole number of positions >= 1"):
        shift_copies(torch.rand(4, 1, 3, 3), shift)
    assert shift_copies(torch.rand(4, 1, 3, 3), np.int64(2)).shape == (20, 1, 3, 3)


@pytest.mark.parametrize("below", [None, -1, 2.5])
def test_augment_support_refuses_a_bad_threshold(below):
    # None was a raw TypeError ('>' between float and NoneType)
    with pytest.raises(ConfigError, match="below .* must be an integer >= 0"):
        augment_support(torch.rand(4, 1, 5, 5), torch.tensor([0, 1, 0, 1]), "shift", below)
