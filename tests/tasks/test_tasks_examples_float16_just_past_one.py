"""float16 inputs one float16 step past 1 (1.00098, the nearest value above 1 float16 has) are a rounding error: told
to clip, as float32 ones past 1 by 1e-7 are (they were told to rescale); far outside they are still told to rescale."""

import numpy as np
import pytest

from metanet import tasks
from metanet.errors import TaskError


def _x(value: float) -> np.ndarray:
    x = np.full((8, 3), 0.5, dtype=np.float16)
    x[0, 0] = value
    return x


def test_a_float16_rounding_error_past_one_is_told_to_clip():
    with pytest.raises(TaskError, match=r"span \[0\.5, 1\.00098\], .*clip them: x\.clip\(0, 1\)$"):
        tasks.from_examples(_x(np.nextafter(np.float16(1), np.float16(2))), np.arange(8) % 2)


def test_float16_values_far_past_one_are_told_to_rescale():
    with pytest.raises(TaskError, match=r"span \[0\.5, 1\.5\], .*rescale them") as e:
        tasks.from_examples(_x(1.5), np.arange(8) % 2)
    assert "clip" not in str(e.value)
