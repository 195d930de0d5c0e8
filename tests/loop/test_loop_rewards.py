"""Rewards and robust scoring: broken candidates get the lowest reward and never stop the loop."""

from __future__ import annotations

import math

import pytest
import torch

from metanet.errors import MetanetError
from metanet.loop import WORST, AccuracyReward, SizePenalty, make_reward, score_candidates
from metanet.verify import Report


def _rep(acc, loss):
    return Report(acc, loss, [], 10, 0.0)


def test_accuracy_reward_orders_by_accuracy_then_loss():
    r = AccuracyReward()([_rep(0.9, 0.5), _rep(0.9, 0.2), _rep(0.95, 3.0), _rep(0.1, math.inf)], {})
    assert r.argsort().tolist() == [3, 0, 1, 2]
    assert r[3] == WORST


def test_size_penalty_favours_fewer_connections():
    p = {"layers.0.weight": torch.ones(2, 4, 3), "layers.0.bias": torch.ones(2, 4)}
    p["layers.0.weight"][1, :, 0] = 0.0
    reward = AccuracyReward() + SizePenalty(0.1)
    r = reward([_rep(0.8, 0.3), _rep(0.8, 0.3)], p)
    assert r[1] > r[0]
    assert "SizePenalty" in repr(make_reward("accuracy+size(0.1)"))
    with pytest.raises(MetanetError, match="valid terms"):
        make_reward("accuracy+speed")


def test_nan_candidate_is_scored_lowest(loop_tasks, tiny_writer):
    lt = loop_tasks[0]
    with torch.no_grad():
        p = tiny_writer.write(lt.arch, *lt.support, lt.num_classes, candidates=4, seed=0)
    p = {k: v.clone() for k, v in p.items()}
    p["layers.0.weight"][2, 0, 0] = math.nan  # candidate 2 outputs NaN
    p["layers.1.bias"][3, 0] = math.inf  # candidate 3 has an infinite weight
    r, reports = score_candidates(lt, p, AccuracyReward())
    assert r[2] == WORST and r[3] == WORST
    assert r[:2].min() > WORST and r.argmin().item() in (2, 3)
    assert reports[3].extra["failed"] == "non-finite weights"


def test_crashing_verification_is_lowest_and_does_not_kill_the_loop(loop_tasks, tiny_writer, monkeypatch, caplog):
    import metanet.loop.core as core

    real = core.verify_stacked

    def flaky(module, params, task, split="test", data=None, **kw):
        k = next(iter(params.values())).shape[0]
        if k > 1 or torch.equal(params["layers.0.weight"][0], crash_w):
            raise RuntimeError("simulated crash in verification")
        return real(module, params, task, split=split, data=data, **kw)

    lt = loop_tasks[0]
    with torch.no_grad():
        p = tiny_writer.write(lt.arch, *lt.support, lt.num_classes, candidates=3, seed=0)
    crash_w = p["layers.0.weight"][1]  # candidate 1's weights crash verification
    monkeypatch.setattr(core, "verify_stacked", flaky)
    r, reports = score_candidates(lt, p, AccuracyReward())
    assert r[1] == WORST and r[0] > WORST and r[2] > WORST
    assert "simulated crash" in reports[1].extra["failed"]
    assert "broken" in caplog.text
    # the whole loop goes on (every batched call crashes, candidates are retried one by one)
    from metanet.loop import improve

    _, hist = improve(tiny_writer, loop_tasks[:1], rounds=1, candidates=3, lr=1e-2, track=False)
    assert len(hist.rounds) == 2


def test_reward_of_no_candidates_is_empty():
    """An empty report list (no candidate survived) gives an empty reward tensor, not a bitwise-or crash."""
    for reward in (AccuracyReward(), AccuracyReward() + SizePenalty()):
        r = reward([], {"w.weight": torch.zeros(0, 3, 3)})
        assert r.shape == (0,) and r.dtype == torch.float64


@pytest.mark.parametrize("spec", ["size(nan)", "size(inf)", "size(-inf)"])
def test_non_finite_size_weight_is_refused(spec):
    """size(nan) made every candidate's reward NaN (so all WORST and no update, silently)."""
    with pytest.raises(MetanetError, match="finite"):
        make_reward(spec)
    with pytest.raises(MetanetError, match="finite"):
        SizePenalty(0.1, threshold=math.nan)


@pytest.mark.parametrize("tie", [-1.0, math.nan, math.inf])
def test_bad_tie_break_is_refused(tie):
    """A negative tie weight would silently prefer the higher loss among equally accurate candidates."""
    with pytest.raises(MetanetError, match="tie"):
        AccuracyReward(tie=tie)


def test_size_penalty_without_weight_tensors_is_zero():
    p = {"layers.0.bias": torch.ones(2, 4)}
    r = (AccuracyReward() + SizePenalty(0.1))([_rep(0.8, 0.3), _rep(0.7, 0.3)], p)
    assert r.shape == (2,) and r[0] > r[1]
