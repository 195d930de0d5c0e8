"""Rewards and robust scoring: broken candidates get the lowest reward and never stop the loop; custom rewards must
give one number per candidate (a bad part of a sum included), rewards add only to rewards, AccuracyReward's loss
tie-break stays below one example's worth of accuracy, and SizePenalty counts connections (scalar weights per
candidate, no BatchNorm scales)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from metanet.errors import ConfigError, MetanetError
from metanet.loop import WORST, AccuracyReward, Reward, SizePenalty, make_reward, score_candidates
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


REPORTS = [Report(0.5, 1.0, [], 10, 0.0), Report(0.5, 0.5, [], 10, 0.0), Report(0.9, math.inf, [], 10, 0.0)]
PARAMS = {"0.weight": torch.randn(3, 4, 5), "0.bias": torch.randn(3, 4)}


class _ListReward(Reward):
    def score(self, reports, params):
        return [r.accuracy for r in reports]


class _ColumnReward(Reward):
    def score(self, reports, params):
        return torch.tensor([[r.accuracy] for r in reports])


def test_a_custom_reward_may_return_a_list_and_must_return_one_reward_per_candidate():
    # a list was an AttributeError ('list' object has no attribute 'double')
    assert _ListReward()(REPORTS, PARAMS).tolist() == [0.5, 0.5, -1e3]
    # a (K, 1) column broadcast silently to a (K, K) table of rewards
    with pytest.raises(ConfigError, match=r"_ColumnReward\.score must return a tensor of shape \(3,\), one reward per "
                                          r"candidate, got shape \(3, 1\)"):
        _ColumnReward()(REPORTS, PARAMS)
    with pytest.raises(ConfigError, match=r"shape \(3,\)"):
        (AccuracyReward() + _ColumnReward())(REPORTS, PARAMS)


def test_rewards_add_only_rewards_and_sum_from_zero():
    # `AccuracyReward() + 0.5` was accepted and failed in the loop's scoring as an AttributeError
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'AccuracyReward' and 'float'"):
        AccuracyReward() + 0.5
    total = sum([AccuracyReward(), SizePenalty(0.1)])  # was a TypeError (0 + Reward)
    expected = AccuracyReward()(REPORTS, PARAMS) + SizePenalty(0.1).score(REPORTS, PARAMS)
    assert torch.allclose(total(REPORTS, PARAMS)[:2], expected[:2]) and total(REPORTS, PARAMS)[2] == -1e3


def test_size_penalty_counts_a_scalar_weight_per_candidate():
    # a network with a 0-d parameter named "...weight" (stacked: shape (K,)) was an IndexError
    p = {"scale.weight": torch.tensor([0.0, 1.0, 2.0]), "fc.weight": torch.zeros(3, 2, 2)}
    assert SizePenalty(1.0)(REPORTS[:2] + [Report(0.1, 1.0, [], 10, 0.0)], p).tolist() == [0.0, -0.2, -0.2]


@pytest.mark.parametrize("make", [lambda: AccuracyReward(tie="0.1"), lambda: AccuracyReward(tie=True),
                                  lambda: SizePenalty(weight=None), lambda: SizePenalty(threshold="0")])
def test_reward_settings_of_the_wrong_type_are_config_errors(make):
    with pytest.raises(ConfigError, match="needs (a )?finite"):  # was a TypeError from math.isfinite
        make()


def _report(acc: float, loss: float, n: int = 1000) -> Report:
    return Report(acc, loss, [], n, 0.0, "t", "val", {})


@pytest.mark.parametrize("loss", [1e12, 1e17, 1e300])
def test_a_huge_finite_loss_does_not_undo_one_example_of_accuracy(loss):
    # 1 more correct example of 1000 must win, however large its (finite) loss: loss / (1 + loss) rounded to 1.0
    # and the two candidates tied (the worse one won the tie, being first)
    r = AccuracyReward()([_report(0.5, 0.0), _report(0.501, loss)], {})
    assert r[1] > r[0]
    assert int(torch.argmax(r)) == 1
    assert 0.5 < r[1].item() < 0.501


def test_the_tie_break_is_unchanged_for_ordinary_losses():
    r = AccuracyReward()([_report(0.5, 0.3), _report(0.5, 3.0)], {})
    assert r.tolist() == [0.5 - 1e-3 * 0.3 / 1.3, 0.5 - 1e-3 * 3.0 / 4.0]


class _Text(Reward):
    def score(self, reports, params):
        return "high"


def test_a_bad_part_of_a_summed_reward_is_a_config_error(loop_tasks):
    from metanet.nets import build

    net = build(loop_tasks[0].arch, seed=0)
    params = {k: v.detach()[None] for k, v in net.named_parameters()}
    from metanet.loop import score_stacked

    for reward in (AccuracyReward() + _Text(), SizePenalty() + _Text(), _Text()):
        with pytest.raises(ConfigError, match="_Text.score must return one number per candidate, got str"):
            score_stacked(loop_tasks[0].arch, 10, params, reward, loop_tasks[0].val)


def _stacked(nets: list[nn.Module]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([dict(n.named_parameters())[k].detach() for n in nets]) for k, _ in nets[0].named_parameters()}


def test_size_penalty_does_not_count_batchnorm_scales():
    """A BatchNorm's weight (its per-channel scale) was counted as connections: two networks with the same
    connections but different BN scales got different penalties, and the fraction was diluted by the scales."""
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    b = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        b[1].weight[:4] = 0.0  # half the scales zero: no connection less
        a[0].weight[0] = 0.0  # 4 of the 56 connections zero
    reports = [Report(0.5, 1.0, [], 10, 0.0)] * 2
    r = SizePenalty(1.0)(reports, _stacked([a, b]))
    assert r.tolist() == pytest.approx([-52 / 56, -1.0])


def test_reward_figures_are_over_working_candidates(loop_tasks, tiny_writer, monkeypatch):
    # a broken candidate's WORST (-1000) became the round's reward/worst (and a task with none working pulled
    # reward/mean, best and worst to about -1000 / n_tasks): the TensorBoard charts showed the sentinel, not rewards
    import metanet.loop.core as core
    from metanet.loop import improve

    real = core.score_candidates

    def one_broken(lt, params, reward, *a, **kw):
        r, reports = real(lt, params, reward, *a, **kw)
        r = r.clone()
        if lt.name == loop_tasks[1].name:
            r[:] = WORST  # every candidate of the second task broken
        else:
            r[1] = WORST
        return r, reports

    monkeypatch.setattr(core, "score_candidates", one_broken)
    _, hist = improve(tiny_writer, loop_tasks[:2], rounds=1, candidates=4, lr=1e-2, track=False)
    rows = [r for r in hist.rounds if "broken" in r]
    assert rows
    for r in rows:
        assert r["broken"] == 1 + 4
        assert 0.0 <= r["reward_worst"] <= r["reward_mean"] <= r["reward_best"] <= 1.0
