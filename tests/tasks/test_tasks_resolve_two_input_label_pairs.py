"""Two (input, label) pairs given as the task (``list(zip(x, y))[:2]``, ``[ds[0], ds[1]]``) are no ``(x, y)``: they
get the list-of-pairs message, as three or more do (they were read as x = the first pair, a raw numpy error about an
inhomogeneous shape), in resolve and verify; a dict of no keys or of many says so."""

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks.resolve import is_examples


@pytest.mark.parametrize("pairs", [
    [(torch.rand(4), 0), (torch.rand(4), 1)],
    [(np.random.default_rng(0).random(4), np.int64(0)), (np.random.default_rng(1).random(4), np.int64(1))],
    ((torch.rand(4), torch.tensor(0)), (torch.rand(4), torch.tensor(1))),
    [([0.1, 0.2], 0), ([0.3, 0.4], 1)],
])
def test_two_pairs_get_the_list_of_pairs_message(pairs):
    net = nn.Linear(4, 2)
    for call in (tasks.resolve, lambda s: metanet.verify(net, s)):
        with pytest.raises(TaskError, match=r"got a (list|tuple) of 2 \(input, label\) pairs; pass them as \(x, y\)"):
            call(pairs)


def test_two_examples_as_lists_are_still_examples():
    x = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]
    assert is_examples((x, [0, 1, 0, 1]))
    assert not is_examples([(torch.rand(2), 0), (torch.rand(2), 1)])


@pytest.mark.parametrize("d, keys", [({}, "none"), ({i: i for i in range(5)}, "0, 1, 2, 3, ...")])
def test_a_dict_names_no_keys_or_says_there_are_more(d, keys):
    with pytest.raises(TaskError, match=rf"got a dict \(keys {keys}\); pass its inputs and labels as a pair \(x, y\)"):
        tasks.resolve(d)
