"""Runs train together (one vectorised population) only when their step schedule is the same: a run of another
training-set size (a task of another size, e.g. ``digits[0-4]`` next to ``digits[5-9]``) or of other stored
checkpoints has another :meth:`RunSpec.group_key`, so :func:`metanet.zoo.build.plan` puts it in another unit.
Sampling only: the tasks' shapes and sizes are given, nothing is loaded."""

from __future__ import annotations

import dataclasses

from metanet.zoo import load_recipe

SIZES = {"digits[0-4]": 901, "digits[5-9]": 896}  # both 5 classes: equal architectures


def _runs(small_recipe: dict) -> list:
    small_recipe.update(count=12, tasks=list(SIZES))
    small_recipe["arch"] = {"family": "mlp", "depth": 1, "width": 8}
    small_recipe["train"] = {"optimizer": "adam", "batch_size": 64, "epochs": 2}
    return load_recipe(small_recipe, check_tasks=False).runs(task_info=lambda task: ((1, 8, 8), 5, SIZES[task]))


def test_runs_of_other_training_set_sizes_are_other_groups(small_recipe):
    runs = _runs(small_recipe)
    assert {r.task for r in runs} == set(SIZES)  # both tasks drawn
    keys = {}
    for r in runs:
        keys.setdefault(r.group_key(), set()).add(r.hparams["n_train"])
    assert sorted(map(len, keys.values())) == [1, 1], keys  # one size per group, two groups


def test_runs_storing_other_checkpoints_are_other_groups(small_recipe):
    r = _runs(small_recipe)[0]
    other = dataclasses.replace(r, checkpoints=[r.hparams["epochs"]])
    assert r.checkpoints != other.checkpoints
    assert r.group_key() != other.group_key()
    assert r.group_key() == dataclasses.replace(r, index=r.index + 1).group_key()
