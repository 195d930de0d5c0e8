"""Recipe values exactly at the edge of what is valid: a range with equal ends is a constant (``{int: [3, 3]}``),
and a backdoor target equal to the task's class count is one past its last class."""

from __future__ import annotations

import numpy as np
import pytest

from metanet.zoo import load_recipe
from metanet.zoo.recipe import Dist, RecipeError


@pytest.mark.parametrize("kind, value", [("int", 3), ("uniform", 0.5), ("log_uniform", 0.5)])
def test_a_range_with_equal_ends_is_valid_and_draws_that_value(kind, value):
    d = Dist.parse("x", {kind: [value, value]})
    assert d.sample(np.random.default_rng(0)) == value


def test_a_backdoor_target_equal_to_the_class_count_is_refused(small_recipe):
    small_recipe["backdoor"] = {"target": 10}  # digits: classes 0..9
    with pytest.raises(RecipeError, match=r"backdoor\.target.*valid: 0\.\.9"):
        load_recipe(small_recipe)
    small_recipe["backdoor"] = {"target": 9}
    assert load_recipe(small_recipe).backdoor["target"].bounds() == [9]


def test_a_log_uniform_range_from_zero_is_refused_where_zero_itself_is_valid(small_recipe):
    small_recipe["train"]["weight_decay"] = {"log_uniform": [0.0, 1.0e-3]}  # 0 is a valid weight decay; log(0) is not
    with pytest.raises(RecipeError, match=r"train\.weight_decay.*'log_uniform' needs lo > 0"):
        load_recipe(small_recipe)
