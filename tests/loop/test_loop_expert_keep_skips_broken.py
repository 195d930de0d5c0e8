"""The ``expert`` update distils only working candidates: with ``keep`` larger than the number of working
candidates, the broken ones (rewarded WORST) are not made winners, so they never enter the teacher (a broken
candidate's NaN logits made the loss NaN and the task lost its update)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from loop_helpers import FixedWriter, toy_task

import metanet.loop.core as core
from metanet.loop import WORST, AccuracyReward, LoopConfig

ARCH = "mlp:4-3-2:relu"


def test_expert_keep_beyond_the_working_candidates_leaves_the_broken_ones_out(monkeypatch):
    rewards = torch.tensor([0.9, WORST, WORST], dtype=torch.float64)
    monkeypatch.setattr(core, "score_candidates",
                        lambda lt, params, reward: (rewards, [SimpleNamespace(accuracy=0.5)] * 3))
    cfg = LoopConfig(candidates=3, method="expert", keep=2, mixup=0, temperature=2.0)
    loss, stats = core._task_loss(FixedWriter(ARCH, 3, seed=1), toy_task(ARCH), cfg, AccuracyReward(), 5)
    assert stats["winners"] == 1 and stats["broken"] == 2
    # the one working candidate is its own teacher: KL 0 (a broken winner in the teacher made it positive)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
