"""Vectorised population training: each member matches the same run trained alone with torch.optim."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

from metanet import tasks
from metanet.nets import build
from metanet.tasks.sources import load_base
from metanet.zoo import load_recipe, population_forward, train_one, train_population
from metanet.zoo.data import load_task_data, task_info
from metanet.zoo.recipe import RunSpec


def _runs(recipe: dict, n: int) -> list[RunSpec]:
    """n runs of a recipe forced onto one group (same arch/optimizer/batch) so they train as one population."""
    runs = load_recipe(recipe).runs()[:n]
    for r in runs[1:]:
        r.arch = runs[0].arch
        r.hparams["optimizer"] = runs[0].hparams["optimizer"]
    return runs


def _close(a: dict, b: dict, atol: float = 2e-5) -> float:
    worst = 0.0
    for k in a:
        worst = max(worst, (a[k] - b[k]).abs().max().item())
    assert worst <= atol, f"max abs difference {worst}"
    return worst


@pytest.mark.parametrize(
    "optimizer, arch",
    [
        ("adam", {"family": "mlp", "depth": 2, "width": 16, "activation": "tanh", "skip": 1.0}),
        ("sgd", {"family": "mlp", "depth": 1, "width": 24, "activation": "relu"}),
        ("adamw", {"family": "cnn", "depth": 2, "width": 6, "activation": "relu", "kernel": 3, "stride": 2}),
    ],
)
def test_member_matches_plain_torch_loop(small_recipe, optimizer, arch):
    small_recipe["arch"] = arch
    if optimizer == "sgd":  # two short epochs: plain SGD needs a larger step to move
        small_recipe["train"]["lr"] = {"log_uniform": [0.05, 0.2]}
    small_recipe["train"].update(optimizer=optimizer, dropout=[0.0, 0.3], label_noise=[0.0, 0.2],
                                 weight_decay=[0.0, 1e-3], momentum={"uniform": [0.0, 0.9]})
    small_recipe["backdoor"] = {"fraction": 0.5, "poison_rate": 0.1, "kind": ["checker", "random"], "size": 3,
                                "location": ["corner", "random"]}
    runs = _runs(small_recipe, 4)
    data = {"digits": load_task_data("digits", 600, 300, 7)}
    pop = train_population(runs, data)
    # every member has its own hyperparameters and data; check them all against the plain loop
    for j, run in enumerate(runs):
        ref = train_one(run, data["digits"])
        assert [c.epoch for c in ref.checkpoints] == [c.epoch for c in pop[j].checkpoints] == [0, 1, 2]
        for cp, cr in zip(pop[j].checkpoints, ref.checkpoints):
            _close(cp.state, cr.state)
            assert abs(cp.metrics["test_acc"] - cr.metrics["test_acc"]) <= 2 / 360
            if run.backdoor:
                assert abs(cp.metrics["asr"] - cr.metrics["asr"]) <= 0.01
    # the sampled hyperparameters really differ between members
    assert len({r.hparams["lr"] for r in runs}) == 4
    # training does something: the final accuracy beats the initialisation
    gains = [p.checkpoints[-1].metrics["test_acc"] - p.checkpoints[0].metrics["test_acc"] for p in pop]
    assert max(gains) > 0.05


def test_a_batch_size_above_the_training_set_is_full_batch_training(small_recipe):
    # a recipe allows any batch_size >= 1; 10**20 crashed allocating a (members * batch_size)-row buffer (TypeError)
    data = {"digits": load_task_data("digits", 600, 300, 7)}
    results = []
    for batch in (600, 10**20):
        small_recipe["train"]["batch_size"] = batch
        runs = _runs(small_recipe, 2)
        assert {r.hparams["batch_size"] for r in runs} == {batch}
        results.append(train_population(runs, data))
    for full, huge in zip(*results):
        for a, b in zip(full.checkpoints, huge.checkpoints):
            assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)


def test_population_result_does_not_depend_on_companions(small_recipe):
    runs = _runs(small_recipe, 4)
    data = {"digits": load_task_data("digits", 600, 300, 7)}
    together = train_population(runs, data)
    alone = train_population(runs[2:3], data)
    _close(together[2].checkpoints[-1].state, alone[0].checkpoints[-1].state)


@pytest.mark.parametrize("arch", ["mlp:64-12-12-10:gelu:skip", "mlp:64-9-10:sigmoid:nobias", "cnn:1-4-5-10:tanh:k3:s2",
                                  "cnn:1-3-10:relu:k5:s1"])
def test_population_forward_equals_module(arch):
    models = [build(arch, seed=s) for s in range(3)]
    params = {k: torch.stack([m.state_dict()[k] for m in models]) for k in models[0].state_dict()}
    x = torch.rand(5, 1, 8, 8)
    shared = population_forward(models[0].arch, params, x)
    per = population_forward(models[0].arch, params, x.expand(3, *x.shape), per_member=True)
    for j, m in enumerate(models):
        with torch.no_grad():
            want = m(x)
        torch.testing.assert_close(shared[j], want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(per[j], want, atol=1e-5, rtol=1e-5)


def test_diverging_member_is_frozen_finite(small_recipe):
    small_recipe["train"].update(optimizer="sgd", lr=0.01, init_scale=1.0, dropout=0.0, label_noise=0.0)
    small_recipe["arch"] = {"depth": 1, "width": 16, "activation": "tanh"}
    runs = _runs(small_recipe, 2)
    runs[0].hparams["lr"] = 1e36  # overflows to inf in the first steps
    data = {"digits": load_task_data("digits", 600, 300, 7)}
    pop = train_population(runs, data)
    for res in pop:
        for c in res.checkpoints:
            assert all(torch.isfinite(v).all() for v in c.state.values())
    bad, good = pop
    assert [c.metrics["diverged"] for c in bad.checkpoints] == [False, True, True]
    assert not any(c.metrics["diverged"] for c in good.checkpoints)
    # frozen at the parameters it had when the diverging epoch began (here: the initialisation)
    for k, v in bad.checkpoints[0].state.items():
        assert torch.equal(v, bad.checkpoints[-1].state[k])
    # the healthy companion trained exactly as it would alone
    alone = train_population(runs[1:], data)[0]
    _close(good.checkpoints[-1].state, alone.checkpoints[-1].state)


def test_population_arguments_that_do_not_fit_are_metanet_errors(small_recipe):
    # were plain ValueErrors (a traceback in the CLI) and, for a task without data, a bare KeyError('digits')
    from metanet.errors import ConfigError, TaskError
    from metanet.zoo import PopulationOptimizer

    data = {"digits": load_task_data("digits", 600, 300, 7)}
    runs = load_recipe(small_recipe).runs()[:4]
    assert len({r.group_key() for r in runs}) > 1
    with pytest.raises(ConfigError, match=r"train_population needs runs of one group key \(architecture, optimizer, "
                                          r"batch size, epochs, training-set size, checkpoints\), got \d"):
        train_population(runs, data)
    runs = _runs(small_recipe, 2)
    with pytest.raises(TaskError, match=r"train_population: no data for task\(s\) \['digits'\]; data holds "
                                        r"\['mnist'\]"):
        train_population(runs, {"mnist": data["digits"]})
    with pytest.raises(TaskError, match=r"run 0: task 'digits' has 500 training examples, its spec says 600"):
        train_population(runs, {"digits": load_task_data("digits", 500, 300, 7)})
    p = torch.zeros(2, 3)
    with pytest.raises(ConfigError, match="unknown optimizer 'adagrad'; valid: sgd, adam, adamw"):
        PopulationOptimizer("adagrad", [p], torch.ones(2), torch.zeros(2))


# --- the trainer's data caches and tasks.clear_cache() ----------------------------------------------------------------


def test_trainer_caches_keep_no_forgotten_data_alive_after_clear_cache():
    # The trainer's caches were keyed by the Task object itself: after tasks.clear_cache() (another $METANET_DATA)
    # they still held the old Task, hence the whole forgotten base data set, until 256 / 6 newer entries came.
    tasks.clear_cache()
    task_info("digits[0,1]")
    first = load_task_data("digits", 200, 50, 0)
    assert load_task_data("digits", 200, 50, 0) is first  # still cached while the task is loaded
    base, task = weakref.ref(load_base("digits")), weakref.ref(tasks.get("digits"))
    tasks.clear_cache()
    gc.collect()
    assert base() is None and task() is None
    # and the next call loads anew rather than answering from the forgotten task
    again = load_task_data("digits", 200, 50, 0)
    assert again is not first and again.x_train.shape == first.x_train.shape
    assert task_info("digits[0,1]") == ((1, 8, 8), 2, int((tasks.get("digits").split("train")[1] < 2).sum()))
