"""``method="pg"``: the Gaussian noise added to the K written candidates is drawn from the round's seed (``seed +
17``, the seed differing per task and round), so each task and round explores new directions; the same seed draws
the same noise (reproducible)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from loop_helpers import toy_task

import metanet.loop.core as core
from metanet.loop import LoopConfig
from metanet.loop.rewards import AccuracyReward
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


class SharedWriter:
    """K copies of one fixed network, whatever the seed: only the pg noise tells two writes apart."""

    def __init__(self, k: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.k = k
        self.params = {n: torch.randn(v.shape, generator=g) for n, v in build(ARCH, seed=0).state_dict().items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        return {n: v.unsqueeze(0).expand(self.k, *v.shape).clone().requires_grad_() for n, v in self.params.items()}


@pytest.fixture
def task():
    return toy_task(ARCH)


def _noise(task, seed: int, monkeypatch) -> torch.Tensor:
    seen = []

    def score(lt, params, reward):
        seen.append(torch.cat([v.detach().flatten(1) for v in params.values()], 1))
        r = torch.linspace(0, 1, len(seen[-1]), dtype=torch.float64)
        return r, [SimpleNamespace(accuracy=0.5)] * len(r)

    monkeypatch.setattr(core, "score_candidates", score)
    w = SharedWriter(4)
    core._task_loss(w, task, LoopConfig(method="pg", candidates=4, sigma=0.1, mixup=0), AccuracyReward(), seed)
    base = torch.cat([v.flatten() for v in w.params.values()])
    return seen[0] - base


def test_each_seed_draws_its_own_noise_and_the_same_seed_the_same(task, monkeypatch):
    a, again, b = (_noise(task, s, monkeypatch) for s in (5, 5, 1_000_008))
    assert bool((a != 0).all())
    assert torch.equal(a, again)
    assert not torch.allclose(a, b)
