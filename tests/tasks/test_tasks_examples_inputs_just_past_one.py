"""Float inputs past [0, 1] by a rounding error (1.0000001 after a blur or a resize) are refused with their true
largest value, not "x values span [0, 1], but task inputs must lie in [0, 1]" (``:g`` rounded it to 1), and told to
clip; inputs far outside keep the advice to rescale."""

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import TaskError


def _x(high: float, low: float = 0.25) -> np.ndarray:
    x = np.full((20, 1, 4, 4), 0.5)
    x[0, 0, 0, 0], x[1, 0, 0, 0] = high, low
    return x


def test_a_largest_value_just_past_one_is_shown_past_one_and_told_to_clip():
    y = np.arange(20) % 2
    with pytest.raises(TaskError, match=r"^x values span \[0\.25, 1\.00000012\], but task inputs must lie in "
                                        r"\[0, 1\]; .*clip them: x\.clip\(0, 1\)$"):
        tasks.from_examples(_x(1.0000001), y)
    with pytest.raises(TaskError, match=r"span \[0\.25, 1\.00000012\].*x\.clip\(0, 1\)"):  # verify reads them so too
        metanet.verify(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), (torch.tensor(_x(1.0000001)), y))


def test_a_smallest_value_just_below_zero_is_told_to_clip():
    with pytest.raises(TaskError, match=r"span \[-1e-07, 1\], .*x\.clip\(0, 1\)$"):
        tasks.from_examples(_x(1.0, low=-1e-7), np.arange(20) % 2)


@pytest.mark.parametrize("high, shown", [(255.0, "255"), (1.5, "1.5")])
def test_values_far_outside_are_told_to_rescale(high, shown):
    with pytest.raises(TaskError, match=rf"span \[0\.25, {shown}\], .*rescale them .*uint8 images 0\.\.255$") as e:
        tasks.from_examples(_x(high), np.arange(20) % 2)
    assert "clip" not in str(e.value)
