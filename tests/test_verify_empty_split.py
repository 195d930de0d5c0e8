"""`metanet.verify` on a split without examples: a TaskError naming the split and what to do, not a raw
ZeroDivisionError from scoring nothing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import TaskError
from metanet.tasks import from_examples


def test_an_empty_split_is_a_task_error_naming_it():
    x = torch.rand(12, 3, generator=torch.Generator().manual_seed(0))
    task = from_examples(x, torch.arange(12) % 2, val_fraction=0, test_fraction=0)  # every example in train
    with pytest.raises(TaskError, match=r"split 'test' of task .* has no examples to verify on; use another split"):
        metanet.verify(nn.Linear(3, 2), task, split="test")
