"""from_examples' refusal of 2-D labels says the way out, as a Dataset's one-hot label is told: one-hot labels
(shape (n, k)) give their class ids by argmax, a column (n, 1) by reshape; the shape alone named none."""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError


def test_one_hot_labels_are_refused_with_their_argmax() -> None:
    y = torch.arange(12) % 3
    with pytest.raises(TaskError, match=r"got shape \(12, 3\); one-hot labels\? y\.argmax\(1\) gives their class ids"):
        tasks.from_examples(torch.rand(12, 5), torch.nn.functional.one_hot(y))


def test_a_column_of_labels_is_refused_with_its_reshape() -> None:
    y = torch.arange(12) % 3
    with pytest.raises(TaskError, match=r"got shape \(12, 1\); y\.reshape\(-1\) makes the column 1-D"):
        tasks.from_examples(torch.rand(12, 5), y[:, None])
    with pytest.raises(TaskError, match=r"got shape \(2, 2, 3\)$"):  # no hint for what is neither
        tasks.from_examples(torch.rand(2, 5), torch.zeros(2, 2, 3, dtype=torch.long))
