"""``backdoor.location: random`` places the trigger anywhere it fits, the bottom / right edge included, and a trigger
as large as the image (its only place: the top-left corner) is sampled, not a crash.

An off-by-one in the drawn row / column (``integers(h - size)``) kept every trigger off the last row and column (no
test saw it: the drawn places stayed in range) and raised numpy's ValueError for a trigger filling the image."""

from __future__ import annotations

from metanet.zoo import load_recipe


def _poisoned(small_recipe: dict, size: int, count: int) -> list[dict]:
    small_recipe["backdoor"] = {"fraction": 1.0, "kind": "square", "size": size, "location": "random"}
    small_recipe["count"] = count
    # digits' shape given, not loaded: sampling needs only (input_shape, classes, n_train)
    recipe = load_recipe(small_recipe, check_tasks=False)
    return [r.backdoor for r in recipe.runs(task_info=lambda task: ((1, 8, 8), 10, 1077))]


def test_random_places_reach_every_row_and_column(small_recipe):
    size = 6  # digits are 8x8: rows and columns 0..2
    places = [tuple(b["location"]) for b in _poisoned(small_recipe, size, 60)]
    rows, cols = {r for r, _ in places}, {c for _, c in places}
    assert rows == {0, 1, 2} and cols == {0, 1, 2}, f"rows {sorted(rows)}, cols {sorted(cols)}; expected 0..2 each"


def test_a_trigger_filling_the_image_is_placed_at_the_origin(small_recipe):
    backdoors = _poisoned(small_recipe, 8, 3)
    assert [b["location"] for b in backdoors] == [[0, 0]] * 3
    assert all(b["placement"] == "random" for b in backdoors)
