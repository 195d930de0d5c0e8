"""The ``"pg"`` loss as the module docstring writes it, with a broken candidate among the K:
``-mean_i A_i log N(theta_i; mu, s^2) / sqrt(P)`` over the working candidates (A standardised over them, the noise
scale s = sigma * RMS(mu) a constant of the gradient), and ``winners`` the working candidates with A > 0."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from loop_helpers import toy_task

import metanet.loop.core as core
from metanet.loop import LoopConfig
from metanet.loop.rewards import WORST, AccuracyReward
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


def test_pg_loss_value_gradient_and_winners_follow_the_formula(monkeypatch):
    k, sigma = 5, 0.1
    g = torch.Generator().manual_seed(0)
    leaves = {n: torch.randn((k, *v.shape), generator=g).requires_grad_()
              for n, v in build(ARCH, seed=0).state_dict().items()}
    writer = SimpleNamespace(write=lambda arch, x, y, c, candidates=1, seed=0: {n: v * 1 for n, v in leaves.items()})
    rewards = torch.tensor([0.2, WORST, 0.9, 0.5, 0.6], dtype=torch.float64)
    seen = {}

    def score(lt, params, reward):
        seen.update(params)
        return rewards.clone(), [SimpleNamespace(accuracy=0.5)] * k

    monkeypatch.setattr(core, "score_candidates", score)
    loss, stats = core._task_loss(writer, toy_task(ARCH), LoopConfig(method="pg", candidates=k, sigma=sigma),
                                  AccuracyReward(), 5)
    loss.backward()
    got = {n: v.grad.clone() for n, v in leaves.items()}

    good = [0, 2, 3, 4]
    r = rewards[good]
    adv = ((r - r.mean()) / r.std()).float()
    n_par = sum(v[0].numel() for v in leaves.values())
    mu = {n: v.detach().clone().requires_grad_() for n, v in leaves.items()}
    logp = 0
    for n, m in mu.items():
        scale = sigma * m.detach().pow(2).flatten(1).mean(1).sqrt().view(-1, *[1] * (m.dim() - 1))
        logp = logp - ((seen[n] - m) / scale).pow(2).flatten(1).sum(1) / 2
    expected = -(adv * logp[good]).sum() / len(good) / math.sqrt(n_par)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    for n in mu:
        torch.testing.assert_close(got[n], mu[n].grad, rtol=1e-4, atol=1e-7)
    assert stats["winners"] == int((adv > 0).sum()) == 2  # 0.9 and 0.6; the broken candidate (A = 0) is none
    assert stats["broken"] == 1
