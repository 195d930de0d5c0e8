"""A recipe's ``seed`` takes every unsigned 32-bit value (what numpy's seeding takes), its largest included, and
refuses the first value past it at load with the valid range named. Sampling only: nothing is loaded."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.zoo import load_recipe


def test_the_largest_seed_is_accepted_and_samples_runs():
    r = load_recipe({"count": 2, "tasks": ["digits"], "seed": 2**32 - 1}, check_tasks=False)
    assert r.seed == 2**32 - 1
    runs = r.runs(task_info=lambda task: ((1, 8, 8), 10, 1077))
    assert len({run.seed for run in runs}) == 2


@pytest.mark.parametrize("seed", [2**32, -1])
def test_a_seed_outside_32_bits_is_refused(seed):
    with pytest.raises(RecipeError, match=rf"'seed' must be an integer in \[0, 4294967295\]; got {seed}"):
        load_recipe({"count": 2, "tasks": ["digits"], "seed": seed}, check_tasks=False)


def test_recipe_docstring_states_the_seed_range_validation_enforces():
    from metanet.zoo import recipe as recipe_mod

    line = next(s for s in recipe_mod.__doc__.splitlines() if s.strip().startswith("seed:"))
    assert "0..2**32-1" in line
