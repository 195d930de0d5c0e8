"""``from_examples`` documents that a class big enough to split keeps at least one example for ``train`` whatever the
fractions (a class with none there could never be learnt); large fractions round a 3-example class to 2 val + 1 test,
and the split must give one back."""

from __future__ import annotations

import numpy as np
import pytest

from metanet import tasks
from metanet.tasks.examples import MIN_PER_CLASS_FOR_SPLIT


@pytest.mark.parametrize("n", [MIN_PER_CLASS_FOR_SPLIT, 4, 5, 7])
def test_every_class_keeps_a_training_example_under_large_fractions(n):
    y = np.repeat(np.arange(3), n)
    x = np.random.default_rng(0).random((len(y), 4))
    t = tasks.from_examples(x, y, val_fraction=0.5, test_fraction=0.45)
    per = {s: np.bincount(t.split(s)[1].numpy(), minlength=3) for s in tasks.SPLITS}
    assert (per["train"] >= 1).all(), per
    # still at least one in each of val and test, and every example in exactly one split
    assert (per["val"] >= 1).all() and (per["test"] >= 1).all(), per
    assert (per["train"] + per["val"] + per["test"] == n).all(), per
