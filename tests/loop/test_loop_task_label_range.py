"""A LoopTask made by hand refuses a label equal to its class count (one past the last class id) when it is made,
as it refuses a negative one."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.loop import LoopTask


@pytest.mark.parametrize("part", ["support", "val", "test"])
def test_a_label_equal_to_the_class_count_is_refused(part):
    x = torch.randn(4, 4)
    good, bad = (x, torch.tensor([0, 1, 0, 1])), (x, torch.tensor([0, 1, 2, 1]))
    parts = {"support": good, "val": good, "test": good, part: bad}
    with pytest.raises(TaskError, match=rf"{part} labels 0\.\.2 are not class ids 0\.\.1"):
        LoopTask("hand", "mlp:4-8-2:relu", 2, **parts)
