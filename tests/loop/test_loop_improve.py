"""The loop on digits with a tiny writer: rounds raise the verified reward, deterministically given a seed."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import MetanetError
from metanet.loop import improve


@pytest.mark.parametrize("selection", ["crossfit", "val"])
def test_rounds_raise_mean_verified_reward(loop_tasks, diverse_writer, selection):
    _, hist = improve(diverse_writer, loop_tasks, rounds=6, method="expert", candidates=6, lr=1e-2,
                      tasks_per_round=2, seed=0, selection=selection)
    tracked = hist.curve("tracked_reward")
    assert len(tracked) == 7
    assert tracked[-1] > tracked[0] + 0.005, tracked
    for r in hist.rounds:
        assert r["reward_worst"] <= r["reward_mean"] <= r["reward_best"]
        assert 0.0 <= r["diversity"] <= 1.0
    assert all(r["winners"] == 2 for r in hist.rounds[:-1])  # keep=1 winner for each of 2 tasks per round


def test_loop_is_deterministic_given_a_seed(loop_tasks, tiny_writer):
    from metanet.writer import Writer

    base = {k: v.clone() for k, v in tiny_writer.state_dict().items()}
    runs = []
    for _ in range(2):
        w = Writer(hidden=8, message=4)
        w.load_state_dict({k: v.clone() for k, v in base.items()})
        _, hist = improve(w, loop_tasks[:2], rounds=2, method="awr", candidates=3, lr=1e-2, seed=5,
                          heldout=loop_tasks[2:3])
        runs.append([{k: v for k, v in r.items() if k != "seconds"} for r in hist.rounds])
    assert runs[0] == runs[1]
    assert "heldout_best_of_k" in runs[0][0]


@pytest.mark.parametrize("method, options", [("pg", {}), ("awr", {}), ("expert", {"refine_steps": 3})])
def test_other_methods_run(loop_tasks, tiny_writer, method, options):
    """Policy gradient, advantage weighting, and expert iteration distilling a perturbation-refined winner."""
    before = {k: v.clone() for k, v in tiny_writer.state_dict().items()}
    _, hist = improve(tiny_writer, loop_tasks[:1], rounds=1, method=method, candidates=3, lr=1e-2, track=False,
                      **options)
    assert "loss" in hist.rounds[0]
    assert any(not torch.equal(v, tiny_writer.state_dict()[k]) for k, v in before.items())


def test_bad_options_are_named(loop_tasks, tiny_writer):
    with pytest.raises(MetanetError, match="valid: expert, awr, pg"):
        improve(tiny_writer, loop_tasks[:1], method="ppo")
    with pytest.raises(MetanetError, match="keep <= candidates"):
        improve(tiny_writer, loop_tasks[:1], candidates=2, keep=3)
    with pytest.raises(MetanetError, match="refine_method 'sgd'; valid: perturbation, activity"):
        improve(tiny_writer, loop_tasks[:1], refine_steps=1, refine_method="sgd")  # the loop never backpropagates


def test_tensorboard_scalars(loop_tasks, tiny_writer, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    improve(tiny_writer, loop_tasks[:1], rounds=1, candidates=3, lr=1e-2, heldout=loop_tasks[1:2], log_dir=str(tmp_path))
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"reward/mean", "reward/best_of_k", "reward/worst", "heldout/accuracy_best_of_k",
            "candidates/diversity", "candidates/winners_kept"} <= tags


@pytest.mark.parametrize("kwargs, message", [
    ({"rounds": -1}, "rounds"),  # ran nothing and returned an empty History
    ({"rounds": 1.5}, "rounds"),
    ({"tasks_per_round": 0}, "tasks_per_round"),  # silently meant "all tasks"
    ({"tasks_per_round": -1}, "tasks_per_round"),  # silently ran rounds over no task
    ({"lr": 0.0}, "lr"),  # the writer never changed
    ({"lr": -1.0}, "lr"),  # raw ValueError from Adam
    ({"lr": float("nan")}, "lr"),
    ({"clip": -1.0}, "clip"),  # a negative max-norm flipped the gradient: the writer ascended the loss
    ({"clip": 0.0}, "clip"),
    ({"temperature": 0.0}, "temperature"),  # division by zero: NaN loss, no update, silently
    ({"method": "awr", "beta": 0.0}, "beta"),
    ({"method": "pg", "sigma": -1.0}, "sigma"),
    ({"mixup": -1}, "mixup"),
    ({"ce_weight": -1.0}, "ce_weight"),
    ({"refine_steps": -1}, "refine_steps"),
    ({"refine_population": 0}, "refine_population"),
    ({"refine_sigma": 0.0}, "refine_sigma"),
    ({"temprature": 2.0}, "unknown loop option 'temprature'.*temperature"),  # raw TypeError
])
def test_bad_numbers_are_refused_before_any_round(loop_tasks, tiny_writer, kwargs, message):
    from metanet.errors import ConfigError

    before = {k: v.clone() for k, v in tiny_writer.state_dict().items()}
    with pytest.raises(ConfigError, match=message):
        improve(tiny_writer, loop_tasks[:1], candidates=2, track=False, **{"rounds": 1, **kwargs})
    assert all(torch.equal(v, tiny_writer.state_dict()[k]) for k, v in before.items())


def test_zero_rounds_only_scores(loop_tasks, tiny_writer):
    before = {k: v.clone() for k, v in tiny_writer.state_dict().items()}
    _, hist = improve(tiny_writer, loop_tasks[:1], rounds=0, candidates=2, track=False)
    assert len(hist.rounds) == 1 and "loss" not in hist.rounds[0]
    assert all(torch.equal(v, tiny_writer.state_dict()[k]) for k, v in before.items())


def test_improve_gives_the_callers_random_state_back():
    """improve seeds torch for determinism; the caller's own random stream must go on as if it had not run."""
    from metanet.loop import improve
    from metanet.writer import Writer

    writer = Writer(hidden=8, message=4)
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    improve(writer, "digits[0,1]", rounds=1, candidates=2, seed=5, track=False)
    assert torch.equal(torch.rand(3), expected)
