"""``train.momentum`` is refused at 1 and above (``metanet/zoo/recipe.py``): SGD's momentum buffer would never
decay, so every sgd run of the zoo would drift or diverge; the recipe documents the range [0, 1)."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.zoo.recipe import load_recipe


@pytest.mark.parametrize("momentum", [1.0, [0.5, 1.0], {"uniform": [0.5, 1.0]}])
def test_momentum_of_one_is_a_recipe_error(momentum: object) -> None:
    recipe = {"name": "m", "count": 1, "tasks": ["digits"], "train": {"optimizer": "sgd", "momentum": momentum}}
    with pytest.raises(RecipeError, match=r"train\.momentum.*\[0, 1\)"):
        load_recipe(recipe, check_tasks=False)
    recipe["train"]["momentum"] = 0.99
    assert load_recipe(recipe, check_tasks=False).train["momentum"].bounds() == [0.99]
