"""Values that would build runs with nothing to learn from are refused at load, each naming its key and the valid
range: ``backdoor.poison_rate`` 0 (a run stored as backdoored with no example poisoned) and
``train.train_examples`` 0 (runs trained on no example). The smallest valid values are accepted."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.zoo import load_recipe


def _load(**sections):
    return load_recipe({"count": 2, "tasks": ["digits"], **sections}, check_tasks=False)


@pytest.mark.parametrize("rate", [0, 0.0, [0.0, 0.1], {"uniform": [0, 0.1]}, {"choice": [0.1, 0]}])
def test_a_poison_rate_of_zero_is_refused(rate):
    with pytest.raises(RecipeError, match=r"'backdoor\.poison_rate': value 0(\.0)? is invalid; valid: numbers in "
                                          r"\(0, 1\)"):
        _load(backdoor={"poison_rate": rate})


def test_the_smallest_poison_rate_and_train_examples_are_accepted():
    r = _load(backdoor={"poison_rate": {"uniform": [1e-9, 0.1]}}, train={"train_examples": 1})
    assert r.backdoor["poison_rate"].bounds() == [1e-9, 0.1] and r.train_examples == 1


def test_zero_train_examples_is_refused():
    with pytest.raises(RecipeError, match=r"'train\.train_examples' must be an integer >= 1; got 0"):
        _load(train={"train_examples": 0})
