"""Population training edge cases (``metanet/zoo/train.py``): hand-made run specs, mixed image sizes, per-member
settings, data subsets, and numpy integers (not bools) in a training run."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, MetanetError, TaskError
from metanet.zoo import load_recipe, train_one, train_population
from metanet.zoo import train as train_mod
from metanet.zoo.train import evaluate_population
from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import RunSpec


@pytest.fixture(scope="module")
def digits() -> dict:
    return {"digits": load_task_data("digits", 600, 300, 7)}


def _runs(recipe: dict, n: int, **train) -> list[RunSpec]:
    """n runs of a recipe forced onto one group (one MLP architecture, adam), clean and without dropout."""
    recipe = copy.deepcopy(recipe)
    recipe["train"].update({"optimizer": "adam", "dropout": 0.0, "label_noise": 0.0, **train})
    recipe["arch"] = {"depth": 1, "width": 16, "activation": "tanh"}
    runs = load_recipe(recipe).runs()[:n]
    for r in runs[1:]:
        r.arch = runs[0].arch
    return runs


@pytest.mark.parametrize("ckpts, what", [([2, 0, 2], "repeated"), ([0, 5], "past"), ([2, 0], "ascending"),
                                         ([-1, 2], "past|negative|0\\.\\.2"), ([0, 1.5], "integer")])
def test_checkpoint_lists_the_run_cannot_store_are_config_errors(small_recipe, digits, ckpts, what):
    # [2, 0, 2] returned two checkpoints for three ids, [0, 5] silently stored only epoch 0 (the build then numbered
    # the networks wrongly): the run's checkpoints must be ascending distinct epochs in 0..epochs
    runs = _runs(small_recipe, 1)
    runs[0].checkpoints = ckpts
    for train in (lambda: train_population(runs, digits), lambda: train_one(runs[0], digits["digits"])):
        with pytest.raises(ConfigError, match=rf"run 0: checkpoints {re.escape(repr(ckpts))} .*({what}).*valid: ascending distinct "
                                              rf"epochs in 0\.\.2"):
            train()


@pytest.mark.parametrize("key, value, valid", [("batch_size", 0, "integers >= 1"), ("batch_size", 64.0, "integers >= 1"),
                                               ("epochs", -1, "integers >= 0"), ("dropout", 1.0, r"numbers in \[0, 1\)"),
                                               ("label_noise", 1.5, r"numbers in \[0, 1\)"),
                                               ("optimizer", "rmsprop", "sgd, adam, adamw")])
def test_hyperparameters_the_loops_cannot_honour_are_config_errors(small_recipe, digits, key, value, valid):
    # batch_size 0 was a raw ValueError from range(), dropout 1 divided by zero and marked every member diverged,
    # and train_one trained an 'rmsprop' run with AdamW without a word
    runs = _runs(small_recipe, 2)
    runs[1].hparams[key] = value
    if key in ("batch_size", "epochs", "optimizer"):  # group-key values: the same for every member
        runs[0].hparams[key] = value
        runs[1].checkpoints = runs[0].checkpoints = [0] if key == "epochs" else runs[0].checkpoints
    for train in (lambda: train_population(runs, digits), lambda: train_one(runs[1], digits["digits"])):
        with pytest.raises(ConfigError, match=rf"run \d: hparams\[{key!r}\] = {value!r}.*valid: {valid}"):
            train()


def test_missing_hyperparameters_name_the_key_and_momentum_is_optional_for_adam(small_recipe, digits):
    runs = _runs(small_recipe, 2)
    for r in runs:  # adam ignores momentum; a hand-made spec need not carry it (was KeyError('momentum'))
        del r.hparams["momentum"]
    pop = train_population(runs, digits)
    ref = train_one(runs[0], digits["digits"])
    torch.testing.assert_close(pop[0].checkpoints[-1].state, ref.checkpoints[-1].state, atol=2e-5, rtol=0)
    del runs[1].hparams["lr"]
    with pytest.raises(ConfigError, match=r"run \d: hparams has no 'lr'"):
        train_population(runs, digits)
    with pytest.raises(ConfigError, match=r"run \d: hparams has no 'lr'"):
        train_one(runs[1], digits["digits"])


def test_cnn_population_of_tasks_with_different_image_sizes_trains(small_recipe):
    # a CNN's architecture does not fix the image size, so digits (8x8) and mnist (28x28) runs share a group key
    # and a unit; training them crashed with "shape mismatch: value tensor of shape [.., 784] cannot be broadcast"
    recipe = copy.deepcopy(small_recipe)
    recipe.update(tasks=["digits", "mnist"], checkpoints=[1])
    recipe["arch"] = {"family": "cnn", "depth": 1, "width": 3, "activation": "relu", "kernel": 3, "stride": 2}
    recipe["train"].update(optimizer="adam", epochs=1, dropout=[0.0, 0.2], train_examples=200)
    recipe["backdoor"] = {"fraction": 0.5, "poison_rate": 0.1, "size": 3}
    runs = load_recipe(recipe).runs()
    key = runs[0].group_key()
    runs = [r for r in runs if r.group_key() == key]
    assert {r.task for r in runs} == {"digits", "mnist"}
    data = {t: load_task_data(t, 200, 100, 7) for t in ("digits", "mnist")}
    seen: list[float] = []
    pop = train_population(runs, data, seen.append)
    assert [r.run for r in pop] == runs
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(0 < f <= 1 for f in seen)
    for j, run in enumerate(runs):  # each member as it trains alone
        ref = train_one(run, data[run.task])
        torch.testing.assert_close(pop[j].checkpoints[-1].state, ref.checkpoints[-1].state, atol=2e-5, rtol=0)
        assert ("asr" in pop[j].checkpoints[-1].metrics) == (run.backdoor is not None)


def test_evaluate_population_without_the_data_of_a_task_is_a_task_error(small_recipe, digits):
    runs = _runs(small_recipe, 1)
    params = {k: v.unsqueeze(0) for k, v in train_one(runs[0], digits["digits"]).checkpoints[0].state.items()}
    with pytest.raises(TaskError, match=r"evaluate_population: no data for task\(s\) \['digits'\]; data holds \[\]"):
        evaluate_population(runs[0].arch, params, runs, {})


def test_every_member_uses_its_own_hyperparameters(small_recipe, digits):
    # members that differ in one setting each: every one matches its own reference run, not the first member's
    runs = _runs(small_recipe, 5, optimizer="sgd", momentum={"uniform": [0.0, 0.9]})
    base = dict(runs[0].hparams)
    changes = [{}, {"lr": base["lr"] * 4}, {"weight_decay": 0.05}, {"momentum": 0.0}, {"init_scale": 2.0},
               {"dropout": 0.5}, {"label_noise": 0.5}]
    runs = [RunSpec.from_dict(copy.deepcopy(runs[0].to_dict())) for _ in changes]
    for r, c in zip(runs, changes):
        r.hparams.update(c)
    pop = train_population(runs, digits)
    finals = [p.checkpoints[-1].state["layers.0.weight"] for p in pop]
    for j, run in enumerate(runs):
        ref = train_one(run, digits["digits"])
        torch.testing.assert_close(pop[j].checkpoints[-1].state, ref.checkpoints[-1].state, atol=2e-5, rtol=0)
        if j:  # and each setting changes the result
            assert not torch.allclose(finals[j], finals[0])


def test_one_member_all_diverging_and_progress(small_recipe, digits):
    runs = _runs(small_recipe, 3)
    for r in runs:
        r.hparams["lr"] = 1e38  # adam steps of lr size overflow the logits
    seen: list[float] = []
    pop = train_population(runs, digits, seen.append)
    assert seen == [0.5, 1.0]
    for res in pop:
        assert [c.metrics["diverged"] for c in res.checkpoints] == [False, True, True]
        for k, v in res.checkpoints[0].state.items():  # frozen at the initialisation, finite
            assert torch.equal(v, res.checkpoints[-1].state[k])
    one = train_population(runs[:1], digits)
    assert [c.metrics["diverged"] for c in one[0].checkpoints] == [False, True, True]


def test_poisoning_stamps_the_requested_fraction_with_the_target(small_recipe, digits):
    from metanet.zoo.train import _setup

    recipe = copy.deepcopy(small_recipe)
    recipe["backdoor"] = {"fraction": 1.0, "poison_rate": 0.25, "size": 2, "target": 3}
    run = load_recipe(recipe).runs()[0]
    run.hparams["label_noise"] = 0.0
    s = _setup(run, digits["digits"])
    assert int(s.poison.sum()) == 150
    assert (s.labels[s.poison] == 3).all()
    assert torch.equal(s.labels[~s.poison], digits["digits"].y_train[~s.poison])


@pytest.mark.parametrize("kwargs, what", [({"train_examples": -5}, "train_examples"), ({"train_examples": 1.5}, "train_examples"),
                                          ({"eval_train_examples": -1}, "eval_train_examples"),
                                          ({"train_examples": True}, "train_examples")])
def test_load_task_data_refuses_counts_that_are_not_sizes(kwargs, what):
    # train_examples=-5 kept all but 5 examples (a negative slice), 1.5 was a raw TypeError
    with pytest.raises(MetanetError, match=rf"load_task_data: {what} = .* valid: "):
        load_task_data("digits", **kwargs)
    assert len(load_task_data("digits", 0, 0).y_train) == 0


def test_population_optimizer_refuses_hyperparameters_that_do_not_match_the_members():
    # lr of 3 values for 2 members failed only at the first step (a RuntimeError), a (1,) weight decay silently
    # broadcast to every member
    from metanet.zoo import PopulationOptimizer

    p = torch.zeros(2, 3)
    with pytest.raises(ConfigError, match=r"parameters of shapes \[\(2, 3\)\] do not stack 3 members"):
        PopulationOptimizer("sgd", [p], torch.ones(3), torch.zeros(3))
    with pytest.raises(ConfigError, match=r"weight_decay has shape \(1,\) \(lr: \(2,\)\); valid: one value per member"):
        PopulationOptimizer("adam", [p], torch.ones(2), torch.zeros(1))
    with pytest.raises(ConfigError, match=r"lr has shape \(\) \(lr: \(\)\)"):
        PopulationOptimizer("adam", [p], torch.tensor(0.1), torch.zeros(2))
    opt = PopulationOptimizer("sgd", [p], torch.tensor([1.0, 2.0]), torch.zeros(2))
    opt.step([p], [torch.ones(2, 3)])
    assert p[:, 0].tolist() == [-1.0, -2.0]


def test_train_one_reports_a_non_finite_run_as_diverged(small_recipe, digits):
    # train_one does not freeze a diverging run; its checkpoints said diverged=False while holding NaNs
    run = _runs(small_recipe, 1, optimizer="sgd")[0]
    run.hparams["lr"] = 1e38  # NaN parameters after the first epoch
    ref = train_one(run, digits["digits"])
    assert [c.metrics["diverged"] for c in ref.checkpoints] == [False, True, True]
    assert not torch.isfinite(ref.checkpoints[-1].state["layers.1.weight"]).all()


def test_training_runs_take_numpy_integers_and_refuse_bools(small_recipe):
    run = load_recipe(small_recipe).sample_run(0)
    ok = copy.deepcopy(run)
    ok.hparams.update(batch_size=np.int64(ok.hparams["batch_size"]), epochs=np.int32(ok.hparams["epochs"]))
    ok.checkpoints = [np.int64(c) for c in ok.checkpoints]
    train_mod._check_run(ok)  # accepted, as the Python ints are
    for key in ("batch_size", "epochs"):
        bad = copy.deepcopy(run)
        bad.hparams[key] = True
        with pytest.raises(ConfigError, match=key):
            train_mod._check_run(bad)
    bad = copy.deepcopy(run)
    bad.checkpoints = [False, True]
    with pytest.raises(ConfigError, match="not integers"):
        train_mod._check_run(bad)
