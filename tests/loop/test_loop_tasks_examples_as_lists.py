"""Labelled examples given to the loop as Python lists, the way generate / verify take them: ``(x.tolist(),
y.tolist())`` is one task (it was refused as 'got list'), and a list of (input, label) pairs (``list(zip(x, y))``)
is an error saying how to pass them (each pair was read as a task of its own: 'y must be a 1-D array ..., got shape
()')."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from metanet.errors import TaskError
from metanet.loop.tasks import as_loop_tasks


def _digits(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return (d.images[:n, None] / 16).astype(np.float32), d.target[:n]


def test_lists_of_inputs_and_labels_are_one_task_as_the_arrays_are():
    x, y = _digits()
    (from_lists,) = as_loop_tasks((x.tolist(), y.tolist()))
    (from_arrays,) = as_loop_tasks((x, y))
    assert from_lists.num_classes == from_arrays.num_classes == 10
    for part in ("support", "val"):
        a, b = getattr(from_lists, part), getattr(from_arrays, part)
        assert torch.equal(a[1], b[1]) and torch.allclose(a[0], b[0])
    (mixed,) = as_loop_tasks((torch.from_numpy(x), y.tolist()))  # a tensor with a list of labels
    assert torch.equal(mixed.support[1], from_arrays.support[1])


@pytest.mark.parametrize("labels", ["int", "tensor"])
def test_a_list_of_input_label_pairs_says_how_to_pass_them(labels):
    x, y = _digits(40)
    pairs = [(torch.from_numpy(a), int(b) if labels == "int" else torch.tensor(b)) for a, b in zip(x, y)]
    with pytest.raises(TaskError, match=r"list of 40 \(input, label\) pairs; pass them as one task \(x, y\)"):
        as_loop_tasks(pairs)
    with pytest.raises(TaskError, match=r"list of 2 \(input, label\) pairs"):
        as_loop_tasks(pairs[:2])


def test_a_list_of_task_names_is_still_a_list_of_tasks():
    got = as_loop_tasks(["digits[3,8]", "digits[1,7]"], shots=5)
    assert [t.num_classes for t in got] == [2, 2]
