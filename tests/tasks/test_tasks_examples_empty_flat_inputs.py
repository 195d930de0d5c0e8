"""Empty examples given as flat sequences (``([], [])``, ``torch.empty(0)``) are called empty, not told to add a
feature axis with ``x[:, None]`` (which gives empty examples all the same)."""

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import TaskError


@pytest.mark.parametrize("x, y", [([], []), (torch.empty(0), torch.empty(0, dtype=torch.long)),
                                  (np.zeros(0), np.zeros(0, dtype=np.int64))])
def test_empty_flat_examples_are_called_empty(x, y):
    with pytest.raises(TaskError, match="^x is empty") as e:
        tasks.from_examples(x, y)
    assert "x[:, None]" not in str(e.value)
    with pytest.raises(TaskError, match="^x is empty"):
        metanet.verify(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), (x, y))


def test_flat_examples_with_values_still_get_the_shape_hint():
    with pytest.raises(TaskError, match=r"at least 2 dimensions, got shape \(4,\); .*x\[:, None\]"):
        tasks.from_examples(torch.rand(4), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(TaskError, match="at least 2 dimensions, got shape"):
        tasks.from_examples(np.float32(0.5), [0])  # a 0-d input: no first axis to count
