"""Argument checks that stood unpinned: a Transform's seed (invert takes none, a bool is no seed) and as_examples'
inputs and labels of different lengths (a TaskError naming both counts, not a failure deep inside torch)."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.tasks.resolve import as_examples
from metanet.tasks.transforms import Transform


def test_transform_seeds_are_checked():
    with pytest.raises(TaskError, match=r"invert takes no seed, got 3; write it as \+invert"):
        Transform("invert", 3)
    for bad in (True, False):
        with pytest.raises(TaskError, match="permute needs an integer seed"):
            Transform("permute", bad)
    assert str(Transform("permute", 1)) == "permute(1)" and str(Transform("invert")) == "invert"


def test_as_examples_refuses_inputs_and_labels_of_other_lengths():
    with pytest.raises(TaskError, match="my data: 3 inputs but 2 labels; they must match"):
        as_examples(torch.rand(3, 2), torch.tensor([0, 1]), "my data")
