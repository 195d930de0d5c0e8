"""Choosing among K candidates: cross-fitting over the labelled examples (and the val split), never scoring a write
on data that conditioned it; evaluate and choose take any task form and check their seed as improve does (numpy
integers included), and the folds take any integer seed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, MetanetError, TaskError
from metanet.loop import (AccuracyReward, LoopConfig, WORST, choose, crossfit_rewards, evaluate, fold_ids, improve,
                          make_reward, split_examples)
from metanet.writer.lightning import written_logits
from loop_helpers import BAD_SEEDS as BAD, make_diverse_writer as _writer

ARCH = "mlp:8-8-3:relu"


@pytest.fixture(scope="module")
def blobs():
    """Three Gaussian classes in 8-d: continuous inputs, so every example is a distinct row (identifiable)."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(60)
    centres = 1.2 * torch.randn(3, 8, generator=g)
    x = centres[y] + torch.randn(len(y), 8, generator=g)
    return x, y


@pytest.fixture(scope="module")
def blob_tasks(blobs):
    x, y = blobs
    return [split_examples(x, y, ARCH, shots=12, val=4, test=20, seed=s, name=f"blobs-{s}") for s in range(2)]


class Recorder:
    """Wraps a writer; records, in call order, what each write was conditioned on."""

    def __init__(self, writer, events):
        self.writer, self.events = writer, events

    def write(self, arch, x, y, num_classes=None, **kw):
        self.events.append(("write", x.detach().clone()))
        return self.writer.write(arch, x, y, num_classes, **kw)

    def __getattr__(self, name):
        return getattr(self.writer, name)


def _rows_in(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """For each row of a: does it occur in b?"""
    return (a.flatten(1).unsqueeze(1) == b.flatten(1).unsqueeze(0)).all(-1).any(1)


def test_fold_ids_are_stratified_balanced_and_seeded():
    y = torch.tensor([0] * 7 + [1] * 5 + [2] * 2)
    f = fold_ids(y, 3, 4, seed=1)
    assert torch.equal(f, fold_ids(y, 3, 4, seed=1)) and not torch.equal(f, fold_ids(y, 3, 4, seed=2))
    sizes = torch.bincount(f, minlength=4)
    assert sizes.max() - sizes.min() <= 1 and sizes.sum() == len(y)
    for c in range(3):
        per = torch.bincount(f[y == c], minlength=4)
        assert per.max() - per.min() <= 1  # each class dealt round-robin
        for fold in range(4):  # a write from the other folds sees every class
            assert ((y == c) & (f != fold)).any()


def test_fold_ids_errors_name_the_problem():
    y = torch.tensor([0, 0, 1, 1, 2])
    with pytest.raises(TaskError, match="class 2 has 1"):
        fold_ids(y, 3, 2)
    with pytest.raises(MetanetError, match="folds >= 2"):
        fold_ids(torch.tensor([0, 0, 1, 1]), 2, 1)
    with pytest.raises(TaskError, match="at least 5 labelled examples"):
        fold_ids(torch.tensor([0, 0, 1, 1]), 2, 5)
    with pytest.raises(MetanetError, match="valid: val, crossfit"):
        LoopConfig(selection="holdout")
    with pytest.raises(MetanetError, match="folds >= 2"):
        LoopConfig(folds=1)


def test_crossfit_reward_is_the_pooled_held_out_accuracy(blob_tasks, tiny_writer):
    """Recomputed by hand: candidate j written from the other folds, accuracy on fold f, pooled over folds."""
    lt = blob_tasks[0]
    x, y = lt.labelled()
    cf = crossfit_rewards(tiny_writer, lt.arch, x, y, 3, candidates=4, reward=AccuracyReward(tie=0.0), folds=4, seed=3)
    assert cf.rewards.shape == (4,) and cf.fold_rewards.shape == (4, 4)
    assert torch.equal(cf.fold, fold_ids(y, 3, 4, seed=3))
    correct = torch.zeros(4)
    with torch.no_grad():
        for f in range(4):
            held = cf.fold == f
            p = tiny_writer.write(lt.arch, x[~held], y[~held], 3, candidates=4, seed=3)
            correct += (written_logits(lt.arch, p, x[held]).argmax(-1) == y[held]).sum(1)
    assert torch.allclose(cf.rewards, (correct / len(y)).double(), atol=1e-9)
    assert [r.n for r in cf.reports] == [len(y)] * 4 and cf.reports[0].split == "crossfit"
    assert cf.reports[1].accuracy == pytest.approx(cf.rewards[1].item())


def test_a_candidate_broken_in_one_fold_gets_the_worst_reward(blob_tasks, tiny_writer, caplog):
    lt = blob_tasks[0]

    def poison(p, fold):  # candidate 1 writes NaN weights, only in fold 2
        if fold == 2:
            p = {k: v.clone() for k, v in p.items()}
            p["layers.0.weight"][1, 0, 0] = math.nan
        return p

    cf = crossfit_rewards(tiny_writer, lt.arch, *lt.labelled(), 3, candidates=3, folds=3, seed=0, perturb=poison)
    assert cf.rewards[1] == WORST and (cf.rewards[[0, 2]] > WORST).all()
    assert cf.fold_rewards[2, 1] == WORST and cf.fold_rewards[0, 1] > WORST
    assert "non-finite weights" in cf.reports[1].extra["failed"] and "broken" in caplog.text


@pytest.mark.parametrize("selection, method", [("crossfit", "expert"), ("crossfit", "pg"), ("val", "awr")])
def test_rewards_never_score_data_that_conditioned_the_write(blob_tasks, tiny_writer, monkeypatch, selection, method):
    """Issue 8 point 2, per write: every verification (a reward) is on examples the write right before it (the
    candidates it scores) was not conditioned on; test examples are never written from nor scored on."""
    import metanet.loop.core as core

    events = []
    real = core.verify_stacked

    def spy(module, params, task, split="test", data=None, **kw):
        events.append(("score", data[0].clone()))
        return real(module, params, task, split=split, data=data, **kw)

    monkeypatch.setattr(core, "verify_stacked", spy)
    w = Recorder(tiny_writer, events)
    improve(w, blob_tasks[:1], rounds=1, method=method, candidates=3, lr=1e-2, selection=selection, folds=3,
            heldout=blob_tasks[:1], compare_selections=True)
    scores = [i for i, e in enumerate(events) if e[0] == "score"]
    assert len(scores) >= 3 * 4, "the loop scored too little"  # rounds x (loop + tracked + heldout) x folds
    for i in scores:
        last_write = max(j for j in range(i) if events[j][0] == "write")
        assert not _rows_in(events[i][1], events[last_write][1]).any(), "a reward used data its write saw"
    tests = blob_tasks[0].test[0]
    for kind, x in events:
        assert not _rows_in(x, tests).any(), f"a {kind} used test examples"


def test_crossfit_scores_every_labelled_example_once_per_candidate(blob_tasks, tiny_writer, monkeypatch):
    import metanet.loop.core as core

    seen = []
    real = core.verify_stacked

    def spy(module, params, task, split="test", data=None, **kw):
        seen.append(data[0])
        return real(module, params, task, split=split, data=data, **kw)

    monkeypatch.setattr(core, "verify_stacked", spy)
    lt = blob_tasks[0]
    x, _ = lt.labelled()
    crossfit_rewards(tiny_writer, lt.arch, *lt.labelled(), 3, candidates=2, folds=5, seed=0)
    assert len(seen) == 5
    scored = torch.cat(seen)
    assert len(scored) == len(x) and _rows_in(x, scored).all()


def test_choose_rewrites_the_chosen_candidate_from_every_labelled_example(blob_tasks, tiny_writer):
    lt = blob_tasks[0]
    for selection in ("crossfit", "val"):
        ch = choose(tiny_writer, lt, candidates=4, selection=selection, folds=3, seed=2)
        assert ch.index == int(torch.argmax(ch.rewards)) and ch.rewards.shape == (4,)
        with torch.no_grad():
            again = tiny_writer.write(lt.arch, *lt.labelled(), 3, candidates=4, seed=2)
        assert all(torch.equal(ch.params[k], again[k]) for k in again)
    with pytest.raises(MetanetError, match="valid: val, crossfit"):
        choose(tiny_writer, lt, selection="oracle")


def test_evaluate_reports_both_selections_against_k1_mean_and_oracle(blob_tasks, tiny_writer):
    ev = evaluate(tiny_writer, blob_tasks, candidates=4, seed=0, selection="crossfit", folds=3, compare=True)
    assert ev["selection"] == "crossfit" and ev["best_of_k"] == ev["best_of_k_crossfit"]
    for row in ev["tasks"]:
        assert row["best_of_k_val"] <= row["oracle"] and row["best_of_k_crossfit"] <= row["oracle"]
        assert 0 <= row["chosen_val"] < 4 and 0 <= row["chosen_crossfit"] < 4
        assert row["mean"] <= row["oracle"]
    again = evaluate(tiny_writer, blob_tasks, candidates=4, seed=0, selection="crossfit", folds=3, compare=True)
    assert ev == again  # deterministic
    only_val = evaluate(tiny_writer, blob_tasks, candidates=4, seed=0)  # the default selection: val
    assert only_val["selection"] == "val" and "best_of_k_crossfit" not in only_val
    assert only_val["best_of_k"] == ev["best_of_k_val"]
    no_test = split_examples(*blob_tasks[0].labelled(), ARCH, shots=5, val=5, test=0, name="no-test")
    with pytest.raises(MetanetError, match="no test split"):
        evaluate(tiny_writer, [no_test], candidates=2)


def test_fold_ids_refuses_negative_or_non_integer_labels():
    """A label -1 (e.g. "unknown") crashed inside torch.bincount; float labels likewise."""
    with pytest.raises(TaskError, match=r"labels must be integers in 0..1, got -1"):
        fold_ids(torch.tensor([0, 0, 1, 1, -1]), 2, 2)
    with pytest.raises(TaskError, match="integer"):
        fold_ids(torch.tensor([0.0, 0.0, 1.0, 1.0]), 2, 2)


def test_no_candidates_or_no_tasks_are_refused(blob_tasks, tiny_writer):
    """candidates=0 crashed with an IndexError deep in scoring; evaluate([]) reported 0.0 accuracy as if measured."""
    from metanet.errors import ConfigError
    from metanet.loop import AccuracyReward, candidate_rewards, evaluate

    lt = blob_tasks[0]
    for k in (0, -1):
        with pytest.raises(ConfigError, match="candidates >= 1"):
            choose(tiny_writer, lt, candidates=k)
        with pytest.raises(ConfigError, match="candidates >= 1"):
            candidate_rewards(tiny_writer, lt, k, AccuracyReward())
        with pytest.raises(ConfigError, match="candidates >= 1"):
            evaluate(tiny_writer, [lt], candidates=k)
    with pytest.raises(TaskError, match="at least one task"):
        evaluate(tiny_writer, [], candidates=2)


@pytest.mark.parametrize("call, message", [
    (lambda: LoopConfig(method="ppo"), "unknown loop method 'ppo'; valid: expert, awr, pg"),
    (lambda: LoopConfig(refine_method="sgd"), "unknown loop refine_method 'sgd'"),
    (lambda: LoopConfig(candidates=2, keep=3), r"need candidates >= 1 and 1 <= keep <= candidates \(whole numbers\), "
                                               r"got 2, 3"),
    (lambda: LoopConfig(candidates="8"), r"got '8', 1"),  # was a TypeError comparing '8' < 1
    (lambda: LoopConfig(candidates=2.5, keep=1), r"got 2.5, 1"),  # was accepted
    (lambda: LoopConfig(method="pg", candidates=1), "method 'pg' compares candidates: it needs candidates >= 2"),
    (lambda: LoopConfig(selection="holdout"), "unknown selection 'holdout'; valid: val, crossfit"),
    (lambda: LoopConfig(folds=1), "cross-fitting needs folds >= 2, got 1"),
    (lambda: LoopConfig(folds="5"), "cross-fitting needs folds >= 2, got '5'"),  # was a TypeError
    (lambda: fold_ids(torch.tensor([0, 0, 1, 1]), 2, 1), "cross-fitting needs folds >= 2, got 1"),
    (lambda: make_reward(3), r"a reward is a Reward object or a string like 'accuracy\+size\(0.05\)', got 3"),
    (lambda: make_reward("accuracy+size(x)"), r"bad size penalty 'size\(x\)': use size\(WEIGHT\)"),
    (lambda: make_reward("accuracy+speed"), "unknown reward term 'speed'; valid terms: accuracy, size, size"),
])
def test_loop_option_errors_are_config_errors(call, message):
    """Were the base MetanetError, which is no ValueError (``except ValueError`` missed them), or a TypeError."""
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError, match=message) as e:
        call()
    assert isinstance(e.value, ValueError)


def test_evaluating_a_task_without_a_test_split_is_a_task_error(loop_tasks, tiny_writer):
    import dataclasses

    no_test = dataclasses.replace(loop_tasks[0], test=None)
    with pytest.raises(TaskError, match="task digits-0 has no test split to evaluate on"):  # was the base MetanetError
        evaluate(tiny_writer, [no_test], candidates=2)


def test_evaluate_and_choose_take_any_task_form(small):
    """A name or one LoopTask was a raw AttributeError / TypeError in evaluate and choose."""
    w = _writer()
    ev = evaluate(w, small, candidates=2)
    assert ev["tasks"][0]["task"] == "small" and 0.0 <= ev["best_of_k"] <= 1.0
    assert evaluate(w, [small], candidates=2) == ev
    assert evaluate(w, "digits[0,1]", candidates=2)["tasks"][0]["task"] == "digits[0,1]"
    c = choose(w, "digits[0,1]", candidates=2)
    assert 0 <= c.index < 2


@pytest.mark.parametrize("seed", BAD)
def test_evaluate_and_choose_check_the_seed_as_improve_does(tiny_writer, loop_tasks, seed):
    # 1.5 was the writer's TaskError ("seed must be an integer"), None a raw TypeError, "3" a raw TypeError
    match = rf"need seed \(any integer\) \(a finite integer\), got {seed!r}"
    with pytest.raises(ConfigError, match=match):
        evaluate(tiny_writer, loop_tasks[:1], candidates=2, seed=seed)
    with pytest.raises(ConfigError, match=match):
        choose(tiny_writer, loop_tasks[0], candidates=2, seed=seed)


def test_a_numpy_seed_is_any_integer(tiny_writer, loop_tasks):
    """choose(seed=np.int64(3)) on a task name was an OverflowError; the same seed as a Python int gives the same."""
    a = choose(tiny_writer, "digits", candidates=2, seed=np.int64(3))
    b = choose(tiny_writer, "digits", candidates=2, seed=3)
    assert a.index == b.index and torch.equal(a.rewards, b.rewards)


def test_cross_fitting_takes_any_integer_seed(loop_tasks):
    # evaluate(selection="crossfit", seed=2**70) was a raw ValueError from the folds' generator
    y = loop_tasks[0].val[1]
    assert torch.equal(fold_ids(y, 10, 3, seed=2**70), fold_ids(y, 10, 3, seed=2**70 % 2**64))
    assert torch.equal(fold_ids(y, 10, 3, seed=-1), fold_ids(y, 10, 3, seed=2**64 - 1))  # as torch wraps it
