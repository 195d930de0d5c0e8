"""A round in which no task has a working candidate counts no working task (``tasks_working`` 0), though its reward
figures fall back to the mean over all its tasks: under DDP that count weights this process's reward figures, so
counting its broken tasks as working mixed their WORST into the other processes' mean of working tasks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import metanet.loop.core as core
from metanet.loop.lightning import LoopModule
from metanet.loop.rewards import WORST


def _row(best: float) -> dict:
    return {"reward_mean": best, "reward_best": best, "reward_worst": best, "diversity": 0.1, "val_acc_mean": 0.5,
            "winners": 0, "broken": 0 if best > WORST else 3}


def _round(monkeypatch, results: list) -> tuple:
    given = iter(results)
    monkeypatch.setattr(core, "_task_loss", lambda *a: next(given))
    return core.round_loss(None, [SimpleNamespace(name=str(i)) for i in range(len(results))], None, None, seed=0)


def test_a_round_without_a_working_task_counts_none(monkeypatch) -> None:
    loss, stats = _round(monkeypatch, [(None, _row(WORST)), (None, _row(WORST))])
    assert loss is None and stats["reward_best"] == WORST  # the fallback: the mean over all its tasks
    assert (stats["tasks"], stats["tasks_working"], stats["tasks_with_loss"]) == (2, 0, 0)


def test_ddp_leaves_a_process_without_a_working_task_out_of_the_reward_mean(monkeypatch) -> None:
    broken = _round(monkeypatch, [(None, _row(WORST)), (None, _row(WORST))])  # process 1: every candidate broke
    working = _round(monkeypatch, [(torch.tensor(2.0), _row(0.8)), (torch.tensor(1.0), _row(0.6))])  # process 0
    sent = []
    fake = SimpleNamespace(device=torch.device("cpu"), all_gather=lambda t: sent.append(t) or t[None])
    LoopModule._round_over_processes(fake, *broken)  # what process 1 sends
    fake.all_gather = lambda t: torch.stack([t, sent[0]])
    loss, out = LoopModule._round_over_processes(fake, *working)
    assert out["reward_best"] == pytest.approx(0.7) and out["reward_mean"] == pytest.approx(0.7)
    assert loss == pytest.approx(1.5) and out["tasks"] == 4 and out["broken"] == 6
