"""What a sampled run stores, pinned directly (only a zoo build from the docs' recipe checked these before): a
``corner`` trigger sits one pixel in from the bottom and right edges where the image allows, a ``checker`` trigger
is ``(row + col) % 2`` (its top-left pixel 0), and every run stores its last epoch whether or not ``checkpoints``
lists it. Sampling only: the task's shape is given, nothing is loaded or trained."""

from __future__ import annotations

import pytest

from metanet.zoo import load_recipe


def _runs(small_recipe: dict, shape: tuple[int, ...], count: int = 4, **backdoor) -> list:
    small_recipe["count"] = count
    if backdoor:
        small_recipe["backdoor"] = {"fraction": 1.0, "location": "corner", "target": 0, **backdoor}
    recipe = load_recipe(small_recipe, check_tasks=False)
    return recipe.runs(task_info=lambda task: (shape, 10, 1077))


@pytest.mark.parametrize("shape, size, where", [
    ((1, 8, 8), 3, [4, 4]),      # one pixel in from the bottom and right edges
    ((1, 10, 6), 2, [7, 3]),     # rows and columns counted separately
    ((1, 8, 8), 7, [0, 0]),      # one pixel in leaves no room above: row 0
    ((1, 8, 8), 8, [0, 0]),      # a trigger as large as the image: its only place
    ((1, 9, 5), 5, [3, 0]),      # as wide as the image, not as tall
])
def test_a_corner_trigger_sits_one_pixel_in_from_the_bottom_right(small_recipe, shape, size, where):
    for r in _runs(small_recipe, shape, kind="square", size=size):
        assert r.backdoor["location"] == where and r.backdoor["placement"] == "corner"


def test_a_checker_trigger_alternates_starting_with_zero(small_recipe):
    (r, *_) = _runs(small_recipe, (1, 8, 8), count=1, kind="checker", size=3)
    assert r.backdoor["pattern"] == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    (r, *_) = _runs(small_recipe, (1, 8, 8), count=1, kind="checker", size=2)
    assert r.backdoor["pattern"] == [[0, 1], [1, 0]]


def test_every_run_stores_its_last_epoch_and_the_listed_ones_before_it(small_recipe):
    small_recipe["checkpoints"] = [0, 2]
    small_recipe["train"]["epochs"] = {"int": [1, 4]}
    runs = _runs(small_recipe, (1, 8, 8), count=24)
    assert {r.hparams["epochs"] for r in runs} == {1, 2, 3, 4}  # every case below is met
    for r in runs:
        e = r.hparams["epochs"]
        assert r.checkpoints == sorted({c for c in (0, 2) if c < e} | {e}), (e, r.checkpoints)
    # no checkpoints listed: the last epoch alone
    small_recipe["checkpoints"] = []
    assert all(r.checkpoints == [r.hparams["epochs"]] for r in _runs(small_recipe, (1, 8, 8), count=6))
