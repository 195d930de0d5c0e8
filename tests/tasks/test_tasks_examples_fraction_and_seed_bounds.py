"""from_examples' bounds: fractions summing to 1 are refused (train would get nothing by the fractions), a seed of
2**63 is refused while 2**63 - 1 is taken, and when a class's val and test shares tie past what it can give, test
gives up an example first (val keeps its share)."""

from __future__ import annotations

import numpy as np
import pytest

from metanet.errors import TaskError
from metanet.tasks import from_examples


def _examples():
    x = np.linspace(0, 1, 8, dtype=np.float32)[:, None]  # 8 distinct inputs
    return x, np.repeat(np.arange(2), 4)


def test_fractions_summing_to_one_are_refused():
    with pytest.raises(TaskError, match="must each be in \\[0, 1\\) and sum to less than 1"):
        from_examples(*_examples(), val_fraction=0.5, test_fraction=0.5)


def test_the_seed_must_be_below_two_to_the_63():
    with pytest.raises(TaskError, match=r"seed must be an integer in \[0, 2\*\*63\), got 9223372036854775808"):
        from_examples(*_examples(), seed=2**63)
    assert sum(from_examples(*_examples(), seed=2**63 - 1).sizes().values()) == 8


def test_test_gives_up_an_example_first_when_val_and_test_tie():
    # 4 per class: round(4 * 0.45) = 2 each for val and test, 1 too many to keep a training example
    t = from_examples(*_examples(), val_fraction=0.45, test_fraction=0.45)
    assert t.sizes() == {"train": 2, "val": 4, "test": 2}
