"""A dict of examples ({"x": ..., "y": ...}) or a list of (input, label) pairs (list(dataset), list(zip(x, y))) is
no task spec: the error says which of the two it got and how to pass it as (x, y), on one line (it was the reprs of
the arrays, spread over several lines, naming neither)."""

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import TaskError


def _examples():
    x = np.random.default_rng(0).random((12, 1, 8, 8))
    return x, np.arange(12) % 2


@pytest.mark.parametrize("keys", [("x", "y"), ("image", "label")])
def test_a_dict_of_examples_names_its_keys_and_the_pair_to_pass(keys):
    x, y = _examples()
    with pytest.raises(TaskError) as e:
        tasks.resolve(dict(zip(keys, (x, y))))
    msg = str(e.value)
    assert f"got a dict (keys {keys[0]!r}, {keys[1]!r}); pass its inputs and labels as a pair " \
           f"(d[{keys[0]!r}], d[{keys[1]!r}])" in msg
    assert "\n" not in msg and "array(" not in msg


@pytest.mark.parametrize("pairs", [
    lambda x, y: list(zip(torch.as_tensor(x), torch.as_tensor(y))),  # list(zip(x, y)) of tensors
    lambda x, y: [(x[i], int(y[i])) for i in range(len(y))],  # [ds[i] for i in ...] of arrays and ints
    lambda x, y: tuple((x[i], int(y[i])) for i in range(5)),
])
def test_a_list_of_pairs_says_so_and_how_to_stack_them(pairs):
    x, y = _examples()
    spec = pairs(x, y)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    for call in (tasks.resolve, lambda s: metanet.verify(net, s)):
        with pytest.raises(TaskError) as e:
            call(spec)
        msg = str(e.value)
        assert f"got a {type(spec).__name__} of {len(spec)} (input, label) pairs; pass them as (x, y): " in msg
        assert "torch.stack(" in msg and "\n" not in msg and "tensor([[" not in msg and "array(" not in msg


def test_a_tensor_spec_is_named_on_one_line():
    with pytest.raises(TaskError, match=r"got Tensor tensor\(\[\[0\., 0\.") as e:
        tasks.resolve(torch.zeros(3, 4))
    assert "\n" not in str(e.value)


def test_lists_of_task_names_keep_the_general_message():
    with pytest.raises(TaskError, match=r"got list \['digits', 'mnist', 'mnist\[3,8\]'\]$"):
        tasks.resolve(["digits", "mnist", "mnist[3,8]"])
