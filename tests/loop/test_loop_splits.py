"""Loop tasks (``metanet.loop.tasks``): support (conditions the writer), val (reward) and test (reported) are
disjoint and rewards use val only; split_examples, from_task, LoopTask and as_loop_tasks check counts, labels, seeds and
task forms when the task is made (numpy, uint8 and float64 examples are read as a task reads them); a task without val
or test examples is refused up front, before anything is written to disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet.errors import ArchError, ConfigError, TaskError
from metanet.loop import LoopTask, as_loop_tasks, evaluate, from_task, improve, split_examples
from loop_helpers import ARCH, BAD_SEEDS as BAD, make_diverse_writer as _writer


def test_split_examples_is_disjoint_by_index(digits_pool):
    x, y = digits_pool
    lt = split_examples(x, y, "mlp:64-16-10:relu", shots=10, val=20, test=20, seed=3)
    s, v, t = (lt.index[p]["pool"] for p in ("support", "val", "test"))
    assert not (set(s.tolist()) & set(v.tolist())) and not (set(s.tolist()) & set(t.tolist()))
    assert not (set(v.tolist()) & set(t.tolist()))
    assert torch.equal(lt.support[0], x[s]) and torch.equal(lt.val[1], y[v])
    assert torch.bincount(lt.support[1]).tolist() == [10] * 10
    bad = LoopTask("bad", lt.arch, 10, lt.support, lt.val, lt.test, {"support": {"pool": s}, "val": {"pool": s[:3]}})
    with pytest.raises(TaskError, match="disjoint"):
        bad.check_disjoint()


def test_labelled_is_support_then_val_never_test(digits_pool):
    x, y = digits_pool
    lt = split_examples(x, y, "mlp:64-16-10:relu", shots=4, val=2, test=3, seed=0)
    lx, ly = lt.labelled()
    idx = torch.cat([lt.index["support"]["pool"], lt.index["val"]["pool"]])
    assert torch.equal(lx, x[idx]) and torch.equal(ly, y[idx]) and len(ly) == 60
    assert not torch.isin(idx, lt.index["test"]["pool"]).any()


def test_from_task_uses_the_task_splits():
    lt = from_task("digits", shots=5, val=10)
    lt.check_disjoint()
    assert set(lt.index["support"]) == {"train"} and set(lt.index["val"]) == {"val"}
    assert len(lt.support[1]) == 50 and len(lt.val[1]) == 100


def test_val_selection_computes_rewards_on_the_val_split_only(loop_tasks, tiny_writer, monkeypatch):
    import metanet.loop.core as core
    from metanet.loop import improve

    seen = []
    real = core.verify_stacked

    def spy(module, params, task, split="test", data=None, **kw):
        seen.append(data)
        return real(module, params, task, split=split, data=data, **kw)

    monkeypatch.setattr(core, "verify_stacked", spy)
    improve(tiny_writer, loop_tasks[:2], rounds=1, candidates=3, lr=1e-2, track=False, selection="val")
    assert seen, "the loop verified nothing"
    vals = [lt.val for lt in loop_tasks[:2]]
    for data in seen:
        assert any(data is v for v in vals), "a reward was computed on something other than a val split"
    assert not any(lt.labelled()[0] is data[0] for lt in loop_tasks[:2] for data in seen)
    for lt in loop_tasks[:2]:
        assert lt.index["val"]["pool"].tolist() and not set(lt.index["val"]["pool"].tolist()) & set(
            lt.index["support"]["pool"].tolist())


def test_loop_refuses_a_loop_task_whose_support_and_val_overlap(loop_tasks, tiny_writer):
    """Rewards must never be computed on data that conditioned the writer: a hand-made LoopTask whose val repeats
    support examples (by its index, or, without one, by content) is refused before any round."""
    from metanet.loop import improve

    lt = loop_tasks[0]
    s = lt.index["support"]["pool"]
    by_index = LoopTask("by-index", lt.arch, 10, lt.support, lt.val, lt.test,
                        {"support": {"pool": s}, "val": {"pool": torch.cat([s[:3], lt.index["val"]["pool"]])}})
    same = LoopTask("same", lt.arch, 10, lt.support, lt.support, lt.test)
    mixed = LoopTask("mixed", lt.arch, 10, lt.support,
                     (torch.cat([lt.val[0], lt.support[0][:1]]), torch.cat([lt.val[1], lt.support[1][:1]])))
    for bad in (by_index, same, mixed):
        with pytest.raises(TaskError, match=f"task {bad.name}: support and val share"):
            improve(tiny_writer, [bad], rounds=1, candidates=2, track=False)
    clean = LoopTask("clean", lt.arch, 10, lt.support, lt.val, lt.test)  # no index: checked by content, passes
    improve(tiny_writer, [clean], rounds=0, candidates=2, track=False)


def test_labelled_examples_are_a_task(digits_pool, tiny_writer):
    """``(x, y)`` examples are a task spec (as for refine/generate), not two tasks whose repr fills the screen."""
    from metanet.loop import as_loop_tasks

    x, y = digits_pool
    (lt,) = as_loop_tasks((x[:300], y[:300]), shots=5)
    assert lt.num_classes == 10 and torch.bincount(lt.support[1]).tolist() == [5] * 10
    assert lt.test is not None and len(lt.val[1]) > 0
    with pytest.raises(TaskError, match=r"a task spec must be .* got Tensor") as e:
        as_loop_tasks([torch.zeros(3, 4)])
    assert len(str(e.value)) < 300


def test_split_examples_refuses_one_class_and_labels_the_arch_cannot_output(digits_pool):
    x, y = digits_pool
    with pytest.raises(TaskError, match="at least 2 classes"):
        split_examples(x[y == 0], y[y == 0], "mlp:64-16-1:relu", shots=5, val=5)
    # labels 3..9 used to be dropped silently (the loop then ran on a 3-class subset of the data)
    with pytest.raises(TaskError, match="labels 0..9.*3 outputs"):
        split_examples(x, y, "mlp:64-16-3:relu", shots=5, val=5)


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


@pytest.mark.parametrize("seed", BAD)
def test_loop_tasks_check_the_seed(digits_pool, seed):
    # as_loop_tasks / from_task: 1.5 was a raw RuntimeError from manual_seed, None a raw TypeError, True accepted
    x, y = digits_pool
    with pytest.raises(ConfigError, match="need seed"):
        as_loop_tasks("digits", seed=seed)
    with pytest.raises(ConfigError, match="need seed"):
        from_task("digits", seed=seed)
    with pytest.raises(ConfigError, match="need seed"):
        split_examples(x, y, ARCH, shots=2, val=2, seed=seed)


@pytest.fixture(scope="module")
def two_per_class(digits_pool):
    x, y = digits_pool
    idx = torch.cat([torch.nonzero(y == c).flatten()[:2] for c in range(10)])
    return x[idx], y[idx]


def test_an_empty_test_part_is_no_test_split(digits_pool):
    x, y = digits_pool
    lt = LoopTask("t", ARCH, 10, (x[:20], y[:20]), (x[20:40], y[20:40]), (x[:0], y[:0]))
    assert lt.test is None


def test_evaluate_on_a_task_without_test_examples_is_a_task_error(tiny_writer, two_per_class):
    # 2 examples per class: the Task made from them has an empty test split; evaluate reported NaN accuracies
    lt = as_loop_tasks(two_per_class)[0]
    assert lt.test is None
    with pytest.raises(TaskError, match="no test split"):
        evaluate(tiny_writer, lt, candidates=2, selection="crossfit", folds=2)


def test_improve_refuses_an_unscorable_task_before_writing_its_log_dir(tiny_writer, two_per_class, tmp_path):
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="val split is empty.*selection='crossfit'"):
        improve(tiny_writer, two_per_class, rounds=1, candidates=2, log_dir=log_dir)
    assert not log_dir.exists()


def test_improve_refuses_too_few_examples_for_its_folds_before_writing_its_log_dir(tiny_writer, digits_pool,
                                                                                     tmp_path):
    x, y = digits_pool
    lt = split_examples(x, y, ARCH, shots=1, val=1, test=5, name="few")
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="task few: cross-fitting with 25 folds needs at least 25"):
        improve(tiny_writer, lt, rounds=1, candidates=2, selection="crossfit", folds=25, log_dir=log_dir)
    assert not log_dir.exists()


def test_improve_refuses_an_unscorable_heldout_task_up_front(tiny_writer, loop_tasks, digits_pool, tmp_path):
    x, y = digits_pool
    held = split_examples(x, y, ARCH, shots=1, val=0, test=5, name="noval")
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="task noval: its val split is empty"):
        improve(tiny_writer, loop_tasks[0], heldout=held, rounds=1, candidates=2, log_dir=log_dir)
    assert not log_dir.exists()
