"""`seeded_permutation` takes every seed the grammar takes, MAX_SEED itself included (``+permute(MAX_SEED)`` parses),
and refuses the next one."""

from __future__ import annotations

import numpy as np
import pytest

from metanet.errors import TaskError
from metanet.tasks.transforms import MAX_SEED, Transform, seeded_permutation


def test_the_largest_seed_the_grammar_takes_draws_the_documented_permutation():
    assert Transform("permute", MAX_SEED).seed == MAX_SEED
    p = seeded_permutation(MAX_SEED, 6)
    assert np.array_equal(p, np.random.default_rng(MAX_SEED).permutation(6)) and p.dtype == np.int64
    with pytest.raises(TaskError, match="seed must be an integer between 0 and"):
        seeded_permutation(MAX_SEED + 1, 6)
