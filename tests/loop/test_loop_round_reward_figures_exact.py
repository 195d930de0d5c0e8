"""The round's reward figures are exactly the best, mean and worst reward of the working candidates (the
existing checks only bound them, so a ``reward_best`` that was the mean went unnoticed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from loop_helpers import toy_task

import metanet.loop.core as core
from metanet.loop import WORST, AccuracyReward, LoopConfig
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


class _FixedWriter:
    def __init__(self, k: int) -> None:
        g = torch.Generator().manual_seed(2)
        self.params = {n: torch.randn(k, *v.shape, generator=g).requires_grad_()
                       for n, v in build(ARCH, seed=0).state_dict().items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        return {n: v * 1 for n, v in self.params.items()}


def test_reward_best_mean_and_worst_are_over_the_working_candidates(monkeypatch):
    rewards = torch.tensor([0.2, WORST, 0.8, 0.5], dtype=torch.float64)
    monkeypatch.setattr(core, "score_candidates",
                        lambda lt, params, reward: (rewards, [SimpleNamespace(accuracy=0.5)] * 4))
    cfg = LoopConfig(candidates=4, method="expert", mixup=0)
    _, stats = core._task_loss(_FixedWriter(4), toy_task(ARCH), cfg, AccuracyReward(), 5)
    assert stats["reward_best"] == pytest.approx(0.8)
    assert stats["reward_mean"] == pytest.approx(0.5)
    assert stats["reward_worst"] == pytest.approx(0.2)
    assert stats["broken"] == 1
