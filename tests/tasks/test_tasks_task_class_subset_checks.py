"""Task(data, classes=...): a class subset needs at least 2 distinct base classes, each in 0..k-1; anything else is a
TaskError naming the subset (a single class is no classification task, a repeated one gave two labels of one class,
and class k was a raw IndexError)."""

from __future__ import annotations

import numpy as np
import pytest

from metanet.errors import TaskError
from metanet.tasks.task import Task, TaskData


def _data(k: int = 3) -> TaskData:
    y = np.arange(4 * k) % k
    x = (np.arange(4 * k, dtype=np.float32) / (4 * k))[:, None]
    return TaskData(name="toy", x={s: x for s in ("train", "val", "test")}, y={s: y for s in ("train", "val", "test")},
                    scale=1.0, class_names=tuple("abc"[:k]), description="toy.", source="test")


@pytest.mark.parametrize("classes", [[1], [], [0, 0], [2, 1, 2], [0, 3], [-1, 0]])
def test_invalid_class_subsets_are_refused(classes):
    with pytest.raises(TaskError, match=r"invalid class subset .* need at least 2 distinct classes in 0..2"):
        Task("toy", _data(), classes=classes)


def test_valid_subsets_at_the_edges():
    t = Task("toy", _data(), classes=[2, 0])  # the last class, and two of them: the least a subset may hold
    assert t.classes == (2, 0) and t.num_classes == 2 and t.class_names == ["c", "a"]
    x, y = t.split("train")
    assert y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]  # base class 2 is label 0, base class 0 label 1
    assert np.array_equal(x[:, 0].numpy(), _data().x["train"][_data().y["train"] != 1, 0])
