"""Three figures of the loop: ``evaluate`` with one candidate (K=1: best-of-K, K=1, mean and oracle are then one
network's test accuracy); ``tracked_reward``, the MEAN over tasks of each task's mean candidate reward (task ``i``
written from seed ``seed + i``); and ``improve``'s updates, each from its own round's gradient only (none carried
over from the round before)."""

from __future__ import annotations

import pytest
import torch

import metanet.loop.core as core
from metanet.loop import evaluate, improve
from metanet.loop.core import tracked_reward
from metanet.loop.rewards import make_reward
from metanet.loop.select import candidate_rewards


def test_evaluate_with_one_candidate_reports_that_one_network(loop_tasks, diverse_writer):
    ev = evaluate(diverse_writer, loop_tasks[:2], candidates=1, seed=3)
    for row in ev["tasks"]:
        assert row["chosen"] == 0
        assert row["best_of_k"] == row["k1"] == row["mean"] == row["oracle"]
    assert ev["best_of_k"] == ev["k1"] == ev["mean"] == ev["oracle"]
    # and it is the network K=1 writes with the task's seed (seed + i): another seed writes another one
    other = evaluate(diverse_writer, loop_tasks[:2], candidates=1, seed=4)
    assert [r["k1"] for r in other["tasks"]] != [r["k1"] for r in ev["tasks"]]


def test_tracked_reward_is_the_mean_over_tasks(loop_tasks, diverse_writer):
    reward = make_reward(None)
    tasks = loop_tasks[:3]
    per = [candidate_rewards(diverse_writer, lt, 3, reward, "val", 5, 10 + i)[0].mean().item()
           for i, lt in enumerate(tasks)]
    assert len(set(per)) == 3  # tasks of different rewards: a sum, max or first task would differ from the mean
    assert tracked_reward(diverse_writer, tasks, 3, reward, 10) == pytest.approx(sum(per) / 3, abs=1e-12)


def test_each_update_uses_only_its_own_rounds_gradient(small, tiny_writer, monkeypatch):
    own, stepped = [], []
    real_round = core.round_loss
    params = list(tiny_writer.parameters())

    def spy_round(writer, batch, cfg, reward, seed):
        loss, stats = real_round(writer, batch, cfg, reward, seed)
        if loss is not None and loss.requires_grad:  # the round's own gradient, before improve's backward
            own.append([g.clone() for g in torch.autograd.grad(loss, params, retain_graph=True,
                                                               allow_unused=True)])
        return loss, stats

    class SpyAdam(torch.optim.Adam):
        def step(self, closure=None):
            stepped.append([None if p.grad is None else p.grad.clone() for p in params])
            return super().step(closure)

    monkeypatch.setattr(core, "round_loss", spy_round)
    monkeypatch.setattr(core.torch.optim, "Adam", SpyAdam)
    improve(tiny_writer, [small], rounds=2, candidates=2, lr=1e-2, clip=1e9, track=False)  # clip: no rescaling
    assert len(stepped) == len(own) == 2
    for got, want in zip(stepped, own):
        for g, w in zip(got, want):
            if w is None:
                assert g is None or not g.any()
            else:
                torch.testing.assert_close(g, w)
