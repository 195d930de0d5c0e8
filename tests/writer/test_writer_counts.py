"""The writer's loop counts (``steps``: refinement passes, ``head_iters``: the logistic head's iterations) have an
upper bound, :data:`metanet.errors.MAX_ITERATIONS` (10**9): ``Writer(steps=10**30)`` was accepted and its first
write never returned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError
from metanet.errors import MAX_ITERATIONS
from metanet.writer import Writer


@pytest.mark.parametrize("name", ["steps", "head_iters"])
@pytest.mark.parametrize("value", [MAX_ITERATIONS + 1, 10**30, 2**63, np.uint64(2**63), torch.tensor(10**12)])
def test_absurd_loop_counts_are_refused(name, value):
    with pytest.raises(ConfigError, match=rf"Writer {name} must be at most 1,000,000,000 \(a whole number: more "
                                          rf"passes than any write could finish\), got "):
        Writer(hidden=8, message=4, **{name: value})


@pytest.mark.parametrize("name", ["steps", "head_iters"])
def test_the_bound_itself_and_real_counts_are_taken(name):
    for value in (1, 3, 1000, MAX_ITERATIONS):
        w = Writer(hidden=8, message=4, **{name: value})
        assert getattr(w, name) == value and type(getattr(w, name)) is int


def test_lower_bound_message_is_unchanged():
    with pytest.raises(ConfigError, match=r"Writer steps must be >= 1 \(a whole number\), got 0"):
        Writer(steps=0)
