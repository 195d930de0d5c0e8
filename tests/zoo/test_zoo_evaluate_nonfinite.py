"""evaluate_population on members whose logits are NaN (train_one scores a diverged run as it is): a NaN row
predicts nothing, so it is right on no label and hits no backdoor target (argmax read it as class 0: the test
accuracy was class 0's share and a member poisoned towards class 0 had an attack success rate of 1.0)."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from metanet.zoo import load_recipe
from metanet.zoo.data import load_task_data
from metanet.zoo.train import evaluate_population, init_params


@pytest.fixture(scope="module")
def digits() -> dict:
    return {"digits": load_task_data("digits", 200, 100, 7)}


def test_a_nan_member_scores_0_and_hits_no_backdoor_target_while_a_finite_one_is_scored(small_recipe, digits):
    recipe = copy.deepcopy(small_recipe)
    recipe["backdoor"] = {"fraction": 1.0, "poison_rate": 0.1, "size": 2, "target": 0}
    run = load_recipe(recipe).runs()[0]
    assert run.backdoor is not None and int(run.backdoor["target"]) == 0
    good = init_params(run)
    params = {k: torch.stack([v, v * math.nan]) for k, v in good.items()}  # member 1: NaN weights
    m = evaluate_population(run.arch, params, [run, run], digits)
    assert [m[1][k] for k in ("train_acc", "val_acc", "test_acc", "asr")] == [0.0] * 4
    assert math.isnan(m[1]["test_loss"])
    alone = evaluate_population(run.arch, {k: v[None] for k, v in good.items()}, [run], digits)[0]
    assert m[0] == alone and 0 < alone["test_acc"] < 1  # the finite member is scored as before
