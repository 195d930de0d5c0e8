"""``arch.depth`` stops one below :data:`metanet.io.MAX_LAYERS`: depth hidden layers make depth + 1 weight layers,
and a network of more than MAX_LAYERS layers is one metanet.load and Zoo.load refuse, so such a zoo would store
networks it cannot read back. The boundary itself, as a constant, a list and a range."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.io import MAX_LAYERS
from metanet.zoo import load_recipe


@pytest.mark.parametrize("depth", [MAX_LAYERS, [1, MAX_LAYERS], {"int": [1, MAX_LAYERS]}])
def test_a_depth_of_max_layers_is_refused(depth):
    with pytest.raises(RecipeError, match=rf"'arch\.depth': value {MAX_LAYERS} is invalid; valid: integers in "
                                          rf"\[1, {MAX_LAYERS - 1}\]"):
        load_recipe({"count": 2, "tasks": ["digits"], "arch": {"depth": depth}}, check_tasks=False)


def test_a_depth_one_below_is_accepted():
    r = load_recipe({"count": 2, "tasks": ["digits"], "arch": {"depth": {"int": [1, MAX_LAYERS - 1]}}},
                    check_tasks=False)
    assert r.arch["depth"].bounds() == [1, MAX_LAYERS - 1]
