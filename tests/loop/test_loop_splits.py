"""Support (conditions the writer), val (reward) and test (reported) are disjoint; rewards use val only."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.loop import LoopTask, from_task, split_examples


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
