"""`metanet.generate` on a task object whose training split has labels past its ``num_classes``: a TaskError naming
the labels, not a support set that silently leaves out the examples of those labels (its validation and test
splits being in range, nothing else would notice)."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet.errors import TaskError


class _Task:
    """Two classes by num_classes; the training split also has examples labelled 2."""

    num_classes = 2
    input_shape = (4,)
    name = "odd-labels"

    def split(self, which: str):
        g = torch.Generator().manual_seed({"train": 0, "val": 1, "test": 2}[which])
        x = torch.rand(30, 4, generator=g)
        y = torch.arange(30) % (3 if which == "train" else 2)
        return x, y


def test_training_labels_past_the_classes_are_refused_by_name(untrained):
    with pytest.raises(TaskError, match=r"training split of task 'odd-labels' has labels 0..2, but the task has 2 "
                                        r"classes .*renumber"):
        metanet.generate(_Task(), candidates=2, writer=untrained, shots=5)
