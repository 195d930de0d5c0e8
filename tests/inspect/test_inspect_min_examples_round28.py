"""Round 28: inspecting on one example is refused (every neuron was recorded dead: constant on it)."""

from __future__ import annotations

import pytest
from inspect_helpers import planted_mlp, planted_task

from metanet.errors import TaskError
from metanet.inspect import inspect


def test_one_example_is_refused_not_every_neuron_dead():
    with pytest.raises(TaskError, match=r"at least 2 examples .* max_examples=1 gives 1"):
        inspect(planted_mlp(), planted_task(), reader=None, max_examples=1)


def test_two_examples_are_enough():
    db = inspect(planted_mlp(), planted_task(), reader=None, max_examples=2)
    assert len(db) > 0
