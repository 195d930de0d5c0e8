"""A recipe's ``seed`` (`metanet.zoo.recipe`): every run of a recipe is drawn from ``(recipe seed, run index)``, so
the same recipe with another seed is another population (other run seeds and hyperparameters) and with the same
seed the same one; a run does not depend on how many runs are drawn with it."""

from __future__ import annotations

import dataclasses

from metanet.zoo.recipe import load_recipe


def _runs(seed: int, limit: int = 6) -> list:
    return dataclasses.replace(load_recipe("tiny"), seed=seed).runs(limit=limit)


def test_the_recipe_seed_draws_the_runs():
    a, b, again = _runs(0), _runs(1), _runs(0)
    assert [r.to_dict() for r in a] == [r.to_dict() for r in again]
    assert not {r.seed for r in a} & {r.seed for r in b}  # no run of seed 1 is a run of seed 0
    assert [r.hparams for r in a] != [r.hparams for r in b]
    assert [r.to_dict() for r in _runs(0, limit=3)] == [r.to_dict() for r in a[:3]]
