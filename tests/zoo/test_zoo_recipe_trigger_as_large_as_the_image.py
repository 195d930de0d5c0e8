"""``backdoor.size`` may equal the image's side: the trigger then fills the image (placed at its top-left corner).
Only a larger trigger is refused, with the image size named. The task's shape is given (the checker's
``task_info`` and the task lookup replaced), so nothing is loaded."""

from __future__ import annotations

import pytest

import metanet.tasks
import metanet.zoo.data
from metanet.errors import RecipeError
from metanet.zoo import load_recipe


@pytest.fixture(autouse=True)
def _digits_shape(monkeypatch):
    monkeypatch.setattr(metanet.tasks, "get", lambda name: None)  # the name is valid: loading it is not tested
    monkeypatch.setattr(metanet.zoo.data, "task_info", lambda name: ((1, 8, 8), 10, 1077))


def _recipe(size):
    return {"name": "t", "count": 2, "tasks": ["digits"], "backdoor": {"fraction": 1.0, "size": size}}


@pytest.mark.parametrize("size", [8, {"int": [2, 8]}, [3, 8]])
def test_a_trigger_as_large_as_the_image_is_accepted(size):
    recipe = load_recipe(_recipe(size))
    assert max(recipe.backdoor["size"].bounds()) == 8


@pytest.mark.parametrize("size", [9, {"int": [2, 9]}, [9, 3]])
def test_a_trigger_larger_than_the_image_is_refused(size):
    with pytest.raises(RecipeError, match=r"'backdoor.size': 9 does not fit the 8x8 images of task 'digits'"):
        load_recipe(_recipe(size))
