"""``train.train_examples`` caps each task's training set: a task with fewer examples keeps all of them, so a run's
``hparams['n_train']`` (the step schedule its population trains on, and what a reader is told) is that task's own
size, never the cap. Sampling only: the tasks' sizes are given, nothing is loaded."""

from __future__ import annotations

from metanet.zoo import load_recipe

SIZES = {"small": 300, "large": 5000}


def _n_train(small_recipe: dict, cap: int | None) -> dict[str, set[int]]:
    small_recipe.update(count=12, tasks=list(SIZES))
    small_recipe["train"]["train_examples"] = cap
    runs = load_recipe(small_recipe, check_tasks=False).runs(task_info=lambda task: ((1, 8, 8), 10, SIZES[task]))
    out: dict[str, set[int]] = {}
    for r in runs:
        out.setdefault(r.task, set()).add(r.hparams["n_train"])
    return out


def test_the_cap_applies_only_to_tasks_larger_than_it(small_recipe):
    assert _n_train(small_recipe, 1000) == {"small": {300}, "large": {1000}}


def test_a_cap_above_every_task_keeps_each_task_whole(small_recipe):
    assert _n_train(small_recipe, 10**6) == {"small": {300}, "large": {5000}}


def test_no_cap_keeps_each_task_whole(small_recipe):
    assert _n_train(small_recipe, None) == {"small": {300}, "large": {5000}}
