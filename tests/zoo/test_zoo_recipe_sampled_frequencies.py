"""Probabilities of a recipe are the frequencies its runs are sampled with (``metanet/zoo/recipe.py``).

The shipped recipes and the test fixtures use ``skip: 0.5`` and ``backdoor.fraction: 0.5``, where a comparison
written the wrong way round (``random() > p``) samples the same frequency; these use lopsided probabilities.
"""

from __future__ import annotations

from metanet.zoo.recipe import load_recipe

_INFO = lambda task: ((1, 8, 8), 10, 1000)  # noqa: E731  (digits-shaped, without loading any data)


def _runs(**extra: object) -> list:
    recipe = {"name": "freq", "seed": 3, "count": 400, "tasks": ["digits"],
              "arch": {"family": "mlp", "depth": 2, "width": 8}, **extra}
    return load_recipe(recipe, check_tasks=False).runs(task_info=_INFO)


def test_skip_probability_is_the_fraction_of_runs_with_residual_skips() -> None:
    for p in (0.15, 0.85):
        runs = _runs(arch={"family": "mlp", "depth": 2, "width": 8, "skip": p})
        share = sum(r.arch.skips for r in runs) / len(runs)
        assert abs(share - p) < 0.1, (p, share)
        assert all(r.hparams["skips"] == r.arch.skips for r in runs)


def test_backdoor_fraction_is_the_fraction_of_poisoned_runs() -> None:
    for p in (0.15, 0.85):
        runs = _runs(backdoor={"fraction": p, "size": 2, "target": 0})
        share = sum(r.backdoor is not None for r in runs) / len(runs)
        assert abs(share - p) < 0.1, (p, share)


def test_random_backdoor_targets_reach_every_class() -> None:
    runs = _runs(backdoor={"fraction": 1.0, "size": 2, "target": "random"})
    assert {r.backdoor["target"] for r in runs} == set(range(10))


def test_momentum_is_stored_for_sgd_runs_only() -> None:
    # adam and adamw do not use it: their stored hparams (a reader's ground truth) say 0.0, as the schema states
    runs = _runs(train={"optimizer": ["sgd", "adam", "adamw"], "momentum": 0.9})
    by_opt = {o: {r.hparams["momentum"] for r in runs if r.hparams["optimizer"] == o} for o in ("sgd", "adam", "adamw")}
    assert by_opt == {"sgd": {0.9}, "adam": {0.0}, "adamw": {0.0}}


def test_ids_follow_each_runs_own_checkpoints_when_epochs_vary() -> None:
    # a run of 1 epoch stores [0, 1], one of 3 stores [0, 1, 3]: ids are consecutive over the runs' own lists
    runs = _runs(checkpoints=[0, 1, 3], train={"epochs": {"int": [1, 3]}})
    assert {len(r.checkpoints) for r in runs} == {2, 3}
    assert [i for r in runs for i in r.ids] == list(range(sum(len(r.checkpoints) for r in runs)))
