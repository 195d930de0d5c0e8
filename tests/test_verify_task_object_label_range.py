"""`metanet.verify` on a task object (any object with ``split`` and ``num_classes``) whose split has a label equal
to ``num_classes``: a TaskError naming the labels and the classes, not a raw index error from scoring it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import TaskError


class _Task:
    num_classes = 2
    name = "one-past"

    def split(self, which: str):
        return torch.rand(9, 3, generator=torch.Generator().manual_seed(0)), torch.arange(9) % 3  # labels 0..2


def test_a_label_equal_to_num_classes_is_refused_by_name():
    with pytest.raises(TaskError, match=r"split 'test' of task 'one-past' has labels 0\.\.2, but task 'one-past' has "
                                        r"2 classes \(labels 0\.\.1\)"):
        metanet.verify(nn.Linear(3, 2), _Task(), split="test")
