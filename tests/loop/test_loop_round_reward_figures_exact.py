"""The round's reward figures are exactly the best, mean and worst reward of the working candidates (the
existing checks only bound them, so a ``reward_best`` that was the mean went unnoticed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from loop_helpers import FixedWriter, toy_task

import metanet.loop.core as core
from metanet.loop import WORST, AccuracyReward, LoopConfig

ARCH = "mlp:4-3-2:relu"


def test_reward_best_mean_and_worst_are_over_the_working_candidates(monkeypatch):
    rewards = torch.tensor([0.2, WORST, 0.8, 0.5], dtype=torch.float64)
    monkeypatch.setattr(core, "score_candidates",
                        lambda lt, params, reward: (rewards, [SimpleNamespace(accuracy=0.5)] * 4))
    cfg = LoopConfig(candidates=4, method="expert", mixup=0)
    _, stats = core._task_loss(FixedWriter(ARCH, 4, seed=2), toy_task(ARCH), cfg, AccuracyReward(), 5)
    assert stats["reward_best"] == pytest.approx(0.8)
    assert stats["reward_mean"] == pytest.approx(0.5)
    assert stats["reward_worst"] == pytest.approx(0.2)
    assert stats["broken"] == 1
