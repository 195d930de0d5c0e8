"""An ``{int: [lo, hi]}`` range needs whole-number bounds: ``[1.5, 3]`` was otherwise drawn as ``int(1.5) = 1``, a
value the recipe never wrote; on a real-valued key (``init_scale: {int: [0.5, 2]}``) it drew 0, outside the key's
range, with no error at all. The refusal names the key and the bounds."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.zoo import load_recipe


@pytest.mark.parametrize("section, key, bounds", [
    ("arch", "depth", [1.5, 3]), ("arch", "width", [4, 8.5]), ("train", "epochs", [1, 2.5]),
    ("train", "batch_size", [16.25, 64]), ("train", "init_scale", [0.5, 2]), ("train", "lr", [0.5, 2]),
])
def test_an_int_range_with_a_fractional_bound_is_refused(section, key, bounds):
    with pytest.raises(RecipeError, match=rf"'{section}\.{key}': 'int' needs integer bounds, got "):
        load_recipe({"count": 2, "tasks": ["digits"], section: {key: {"int": bounds}}}, check_tasks=False)
