"""``improve``, the loop on digits with a tiny writer: rounds raise the verified reward, deterministically given a seed
(any integer, numpy's included); it takes every task form, its History rows and config are as documented, bad options
and a held-out task without test examples are refused before anything is written, and its TensorBoard directory
('~' is the home folder) is closed even when a round raises; the writer comes back in the training mode it was
given in (each module's own)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import metanet.loop.core as core
from metanet.errors import ConfigError, MetanetError, TaskError
from metanet.loop import improve, split_examples
from loop_helpers import ARCH, make_diverse_writer as _writer


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


def test_heldout_without_test_is_refused_before_tensorboard_is_written(small, digits_pool, tmp_path):
    x, y = digits_pool
    no_test = split_examples(x, y, ARCH, shots=3, val=5, test=0)
    log_dir = tmp_path / "tb"
    with pytest.raises(TaskError, match="no test split"):
        improve(_writer(), small, rounds=1, candidates=2, heldout=no_test, log_dir=str(log_dir))
    assert not log_dir.exists()  # was an events file left behind


def test_a_log_dir_that_is_a_file_is_a_config_error(small, tmp_path):
    f = tmp_path / "taken"
    f.write_text("x")
    with pytest.raises(ConfigError, match="existing file"):  # was a raw FileExistsError
        improve(_writer(), small, rounds=0, candidates=2, log_dir=str(f))


@pytest.mark.parametrize("form", ["name", "task", "examples", "loop task"])
def test_improve_takes_every_task_form(form, small):
    from metanet import tasks

    t = tasks.get("digits[0,1]")
    spec = {"name": "digits[0,1]", "task": t, "examples": t.split("train"), "loop task": small}[form]
    _, hist = improve(_writer(), spec, rounds=1, candidates=2, track=False)
    assert len(hist.rounds) == 2 and hist.rounds[0]["tasks"] == 1 and "loss" in hist.rounds[0]


@pytest.mark.parametrize("method, k, keep, winners", [("expert", 1, 1, 1), ("expert", 3, 3, 3), ("awr", 2, 1, None),
                                                     ("pg", 2, 1, None)])
def test_history_rows_match_the_docstring(small, method, k, keep, winners):
    _, hist = improve(_writer(), small, rounds=1, method=method, candidates=k, keep=keep, heldout=small)
    assert [r["round"] for r in hist.rounds] == [0, 1]
    assert "loss" in hist.rounds[0] and "loss" not in hist.rounds[1]  # the last round only scores
    for r in hist.rounds:
        assert r["reward_worst"] <= r["reward_mean"] <= r["reward_best"]
        assert 0.0 <= r["diversity"] <= 1.0 and (k > 1 or r["diversity"] == 0.0)
        assert 0 <= r["winners"] <= k and r["broken"] == 0
        assert 0.0 <= r["heldout_best_of_k"] <= 1.0 and "tracked_reward" in r
        if winners is not None:
            assert r["winners"] == winners
    assert hist.config["method"] == method and hist.config["candidates"] == k
    # every argument that shapes the run is in the config (tasks_per_round, clip, track were missing)
    assert {"tasks_per_round", "clip", "track", "compare_selections", "selection", "folds", "lr", "seed",
            "rounds", "reward"} <= set(hist.config)


@pytest.mark.parametrize("method, selection", [("expert", "crossfit"), ("pg", "val")])
def test_the_same_seed_gives_a_bit_identical_writer(small, method, selection):
    states = []
    for _ in range(2):
        w = _writer()
        improve(w, small, rounds=2, method=method, candidates=2, selection=selection, folds=2, seed=7, track=False)
        states.append(w.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert any(not torch.equal(states[0][k], v) for k, v in _writer().state_dict().items())


def test_crossfit_with_fewer_examples_per_class_than_folds(digits_pool):
    """Two labelled examples per class and 5 folds: each fold's write still sees every class."""
    x, y = digits_pool
    lt = split_examples(x, y, ARCH, shots=1, val=1, test=3)
    _, hist = improve(_writer(), lt, rounds=1, candidates=2, selection="crossfit", folds=5, track=False, heldout=lt)
    assert hist.rounds[0]["broken"] == 0 and "loss" in hist.rounds[0]
    tiny = split_examples(x[y < 2], y[y < 2], "mlp:64-16-2:relu", shots=1, val=1)  # 4 examples, 5 folds
    with pytest.raises(TaskError, match="5 folds needs at least 5 labelled examples"):
        improve(_writer(), tiny, rounds=0, candidates=2, selection="crossfit", track=False)


@pytest.mark.parametrize("seed", [1.5, None, "0"])
def test_improve_seed_must_be_an_integer(tiny_writer, loop_tasks, seed):
    # 1.5 was "seed must be an integer, got 4243.5" (a derived seed), None a raw TypeError
    with pytest.raises(ConfigError, match=rf"need seed \(any integer\) \(a finite integer\), got {seed!r}"):
        improve(tiny_writer, loop_tasks[:1], rounds=1, candidates=2, seed=seed)


def test_improve_takes_a_numpy_seed(loop_tasks):
    """A numpy integer made every round skip ("an integer is required"): rounds of no tasks, no update."""
    from metanet.writer import Writer

    def run(seed):
        torch.manual_seed(0)
        return improve(Writer(hidden=8, message=4), loop_tasks[:1], rounds=1, candidates=2, seed=seed, track=False)

    w_np, h_np = run(np.int64(3))
    w_py, h_py = run(3)
    assert h_np.rounds[1]["tasks"] == 1 and "loss" in h_np.rounds[0]
    assert all(torch.equal(a, b) for a, b in zip(w_np.state_dict().values(), w_py.state_dict().values()))


def test_a_log_dir_under_tilde_is_in_the_home_folder(tiny_writer, loop_tasks, home):
    improve(tiny_writer, loop_tasks[0], rounds=0, candidates=2, track=False, log_dir="~/tb")
    assert list((home / "tb").glob("events.out.tfevents.*"))
    assert not (Path.cwd() / "~").exists()  # SummaryWriter made a folder named '~' in the working directory


def test_the_event_file_is_closed_when_a_round_raises(tiny_writer, loop_tasks, tmp_path, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    closed = []
    real_close = SummaryWriter.close
    monkeypatch.setattr(SummaryWriter, "close", lambda self: (closed.append(self), real_close(self))[1])

    def boom(*a, **k):
        raise RuntimeError("a round failed")

    monkeypatch.setattr(core, "round_loss", boom)
    with pytest.raises(RuntimeError, match="a round failed"):
        improve(tiny_writer, loop_tasks[0], rounds=1, candidates=2, track=False, log_dir=tmp_path / "tb")
    assert len(closed) == 1


@pytest.fixture(scope="module")
def loop_task():
    from metanet import tasks
    from metanet.loop import split_examples

    x, y = tasks.get("digits").split("train")
    return split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=20, test=20, seed=0, name="digits-0")


def test_improve_gives_the_writer_back_in_its_mode(loop_task):
    """improve() always ended with writer.eval(): a writer given in train mode came back in eval mode."""
    from metanet.loop import improve
    from metanet.writer import Writer

    torch.manual_seed(0)
    w = Writer(hidden=8, message=4).train()
    assert improve(w, [loop_task], rounds=0, candidates=2, track=False)[0] is w
    assert w.training and all(m.training for m in w.modules())
    w.eval()
    improve(w, [loop_task], rounds=0, candidates=2, track=False, heldout=[loop_task])
    assert not any(m.training for m in w.modules())
    w.train()
    sub = next(m for m in w.modules() if m is not w)
    sub.eval()  # each module's own mode
    improve(w, [loop_task], rounds=0, candidates=2, track=False)
    assert w.training and not sub.training
