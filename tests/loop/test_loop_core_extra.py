"""The loop's core, selection, tasks and CLI with awkward-but-legitimate and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metanet.cli import main
from metanet.errors import ArchError, ConfigError, TaskError
from metanet.loop import LoopTask, as_loop_tasks, choose, evaluate, from_task, improve, split_examples

ARCH = "mlp:64-16-10:relu"


@pytest.fixture(scope="module")
def small(digits_pool):
    x, y = digits_pool
    return split_examples(x, y, ARCH, shots=3, val=5, test=5, seed=0, name="small")


def _writer():
    from metanet.writer import Writer

    torch.manual_seed(0)
    return Writer(hidden=8, message=4, start_mix=1.0)


# ------------------------------------------------------------------------------------------ bugs fixed
def test_float64_examples_are_looped_on_not_skipped_every_round(digits_pool):
    """A float64 pool made every round skip the task (a warning per round, a History of empty rounds)."""
    x, y = digits_pool
    lt = split_examples(x.double(), y, ARCH, shots=3, val=5, test=5)
    assert lt.support[0].dtype == torch.float32
    _, hist = improve(_writer(), lt, rounds=1, candidates=2, track=False)
    assert [r["tasks"] for r in hist.rounds] == [1, 1] and "loss" in hist.rounds[0]


def test_split_examples_reads_numpy_and_uint8_like_a_task(digits_pool):
    x, y = digits_pool
    u8 = (x * 255).round().to(torch.uint8)
    lt = split_examples(u8.numpy(), y.numpy().astype(np.int32), ARCH, shots=3, val=5, test=5)
    assert lt.support[0].dtype == torch.float32 and lt.support[1].dtype == torch.int64
    assert float(lt.support[0].max()) <= 1.0  # divided by 255, as from_examples reads uint8 images


@pytest.mark.parametrize("kwargs, error, match", [
    ({"shots": 2.5}, ConfigError, "shots"),  # raw TypeError from slicing
    ({"shots": -1}, ConfigError, "shots"),  # "support and test share examples": misleading
    ({"shots": 0}, ConfigError, "shots"),  # an empty support
    ({"val": -1}, ConfigError, "val"),
    ({"test": -1}, ConfigError, "test"),  # silently "all but the last one"
])
def test_split_examples_bad_counts_are_config_errors(digits_pool, kwargs, error, match):
    x, y = digits_pool
    with pytest.raises(error, match=match):
        split_examples(x, y, ARCH, **{"shots": 3, "val": 5, **kwargs})


def test_split_examples_of_unequal_lengths_is_a_task_error(digits_pool):
    x, y = digits_pool
    with pytest.raises(TaskError, match="10 inputs but 1077 labels"):  # was a raw IndexError
        split_examples(x[:10], y, ARCH, shots=2, val=2)
    with pytest.raises(TaskError, match="labels must be integer"):  # float labels were used as class ids
        split_examples(x, y.float(), ARCH, shots=2, val=2)


def test_from_task_bad_counts_are_config_errors():
    with pytest.raises(ConfigError, match="shots"):
        from_task("digits[0,1]", shots=0)
    with pytest.raises(ConfigError, match="val"):
        from_task("digits[0,1]", val=0)


def test_a_hand_built_loop_task_is_checked_when_it_is_made(small):
    """Wrong labels or lengths used to be accepted and fail deep inside a round (or not at all)."""
    with pytest.raises(TaskError, match="support labels 5..14 are not class ids 0..9"):
        LoopTask("h", small.arch, 10, (small.support[0], small.support[1] + 5), small.val, small.test)
    with pytest.raises(TaskError, match="support: 30 inputs but 3 labels"):
        LoopTask("h", small.arch, 10, (small.support[0], small.support[1][:3]), small.val, small.test)
    with pytest.raises(TaskError, match="val: labels must be integer"):
        LoopTask("h", small.arch, 10, small.support, (small.val[0], small.val[1].float()), small.test)
    with pytest.raises(ArchError, match="10 outputs but the task has 5 classes"):
        LoopTask("h", small.arch, 5, small.support, small.val, small.test)
    lt = LoopTask("h", ARCH, 10, (small.support[0].numpy(), small.support[1].numpy()), small.val, small.test)
    assert lt.arch == small.arch and isinstance(lt.support[0], torch.Tensor)


def test_a_test_split_equal_to_the_support_is_refused(small):
    """The held-out accuracy would score examples the candidates were written from."""
    leak = LoopTask("leak", small.arch, 10, small.support, small.val, small.support)
    with pytest.raises(TaskError, match="support and test share examples"):
        as_loop_tasks(leak)
    as_loop_tasks(LoopTask("clean", small.arch, 10, small.support, small.val, small.test))  # disjoint: fine


def test_an_empty_val_split_is_a_task_error_not_the_worst_reward(digits_pool, small):
    """Every candidate got the worst reward and the loop learnt nothing, with a warning per candidate."""
    x, y = digits_pool
    lt = split_examples(x, y, ARCH, shots=3, val=0, test=5)
    with pytest.raises(TaskError, match="val split is empty"):
        improve(_writer(), lt, rounds=1, candidates=2, track=False)
    # a hand-built task with an empty val: the disjointness check used to crash (cannot reshape 0 elements)
    empty = LoopTask("e", small.arch, 10, small.support, (small.val[0][:0], small.val[1][:0]), small.test)
    assert as_loop_tasks(empty)[0] is empty
    _, hist = improve(_writer(), lt, rounds=0, candidates=2, track=False, selection="crossfit", folds=2)
    assert hist.rounds[0]["tasks"] == 1  # cross-fitting needs no val split


@pytest.mark.parametrize("tasks", [None, 3, {"digits": 1}, {"digits", "digits[0,1]"}])
def test_loop_tasks_of_the_wrong_kind_are_task_errors(tasks):
    with pytest.raises(TaskError, match="loop tasks are a task name"):  # TypeError, or a dict's keys / a set's order
        as_loop_tasks(tasks)


def test_evaluate_and_choose_take_any_task_form(small):
    """A name or one LoopTask was a raw AttributeError / TypeError in evaluate and choose."""
    w = _writer()
    ev = evaluate(w, small, candidates=2)
    assert ev["tasks"][0]["task"] == "small" and 0.0 <= ev["best_of_k"] <= 1.0
    assert evaluate(w, [small], candidates=2) == ev
    assert evaluate(w, "digits[0,1]", candidates=2)["tasks"][0]["task"] == "digits[0,1]"
    c = choose(w, "digits[0,1]", candidates=2)
    assert 0 <= c.index < 2


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


# ------------------------------------------------------------------------------------------ behaviour kept
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


def test_cli_json_and_tensorboard_tags(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    start = tmp_path / "start writer.safetensors"
    _writer().save(start)
    log_dir = tmp_path / "tb dir"
    assert main(["improve", "digits[0,1]", "--rounds", "1", "--candidates", "2", "--writer", str(start),
                 "--heldout", "digits[2,3]", "--log-dir", str(log_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["round"] for r in data["rounds"]] == [0, 1] and "out" not in data
    assert data["config"]["candidates"] == 2 and "heldout_best_of_k" in data["rounds"][1]
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"reward/mean", "reward/best_of_k", "reward/worst", "heldout/accuracy_best_of_k", "heldout/accuracy_k1",
            "candidates/diversity", "candidates/winners_kept"} <= tags  # issue 8, point 3
    assert [e.step for e in acc.Scalars("reward/mean")] == [0, 1]


def test_cli_bad_loop_task_is_one_line(capsys):
    assert main(["improve", "no-such-task", "--rounds", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metanet: error: ") and "Traceback" not in err
    with pytest.raises(TaskError, match="the loop needs at least one task"):
        improve(_writer(), [], rounds=0)
