"""Support-set shift augmentation (metanet.writer.augment) and its use by the Writer; bad shifts and thresholds are
named. The neighbour correlation and the class-count threshold as their docstrings define them, by hand."""

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


def test_neighbour_correlation_is_the_mean_pearson_correlation_of_neighbours():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, 4, 5, generator=g).cumsum(-1).cumsum(-2)
    x[:, :, 0, 0] = 0.5  # a constant position: its pairs are left out
    a = x.double().numpy()
    per_axis = []
    for axis in (2, 3):
        n = a.shape[axis] - 1
        lo = np.take(a, range(n), axis).reshape(40, -1)
        hi = np.take(a, range(1, n + 1), axis).reshape(40, -1)
        keep = (lo.std(0) > 1e-3) & (hi.std(0) > 1e-3)
        per_axis.append(np.mean([np.corrcoef(lo[:, p], hi[:, p])[0, 1] for p in np.flatnonzero(keep)]))
    assert abs(neighbour_correlation(x) - np.mean(per_axis)) < 1e-5


def test_augment_support_threshold_is_the_lower_median_of_the_class_counts():
    # counts 2, 2, 9, 9: the documented median is the lower middle count, 2 (not 5.5)
    g = torch.Generator().manual_seed(1)
    y = torch.tensor([0] * 2 + [1] * 2 + [2] * 9 + [3] * 9)
    x = torch.randn(len(y), 1, 6, 6, generator=g).cumsum(-1).cumsum(-2)  # smooth: neighbour correlation high
    xs, ys = augment_support(x, y, "shift", 2)
    assert xs.shape == (5 * len(y), 1, 6, 6) and torch.equal(ys, y.repeat(5)) and torch.equal(xs[: len(y)], x)
    assert augment_support(x, y, "shift", 1)[0] is x


def test_neighbour_correlation_skips_an_axis_without_varying_neighbours():
    # one smooth varying row among constant rows: the rows' axis says nothing, the columns' axis still does
    row = torch.randn(20, 1, 1, 16, generator=torch.Generator().manual_seed(0)).cumsum(-1)
    x = torch.zeros(20, 1, 4, 16)
    x[:, :, 1:2] = row
    assert neighbour_correlation(x) == pytest.approx(neighbour_correlation(row))
    assert neighbour_correlation(torch.zeros(20, 1, 4, 16)) is None  # nothing varies anywhere
