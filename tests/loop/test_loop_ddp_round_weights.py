"""Under DDP the loop's round figures are weighted by the counts behind each process's means: the reward figures
by the tasks with a working candidate, the loss by the tasks with a finite loss (round_loss returns both counts).
Weighting every process by all its tasks logged 0.7 where the round's tasks give 0.633 when one process had a task
whose candidates all broke."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import metanet.loop.core as core
from metanet.loop.lightning import LoopModule
from metanet.loop.rewards import WORST


def _row(best: float) -> dict:
    return {"reward_mean": best, "reward_best": best, "reward_worst": best, "diversity": 0.1, "val_acc_mean": 0.5,
            "winners": 1, "broken": 0 if best > WORST else 3}


def test_round_loss_returns_the_counts_behind_its_means(monkeypatch):
    given = iter([(torch.tensor(2.0), _row(0.9)), (None, _row(WORST)), (torch.tensor(float("nan")), _row(0.4))])
    monkeypatch.setattr(core, "_task_loss", lambda *a: next(given))
    loss, stats = core.round_loss(None, [SimpleNamespace(name=str(i)) for i in range(3)], None, None, seed=0)
    assert float(loss) == 2.0 and stats["reward_best"] == pytest.approx(0.65)
    assert (stats["tasks"], stats["tasks_working"], stats["tasks_with_loss"]) == (3, 2, 1)


def _over_processes(mine: tuple, other: tuple) -> tuple:
    """_round_over_processes of process 0 (``mine``: loss, stats) with process 1's figures (``other``)."""
    sent = []
    fake = SimpleNamespace(device=torch.device("cpu"), all_gather=lambda t: sent.append(t) or t[None])
    LoopModule._round_over_processes(fake, *other)  # what process 1 sends
    fake.all_gather = lambda t: torch.stack([t, sent[0]])
    return LoopModule._round_over_processes(fake, *mine)


def test_ddp_round_figures_are_weighted_by_working_tasks_and_finite_losses():
    a = (torch.tensor(3.0), {**_row(0.9), "tasks": 2, "tasks_working": 1, "tasks_with_loss": 1, "winners": 1})
    b = (torch.tensor(1.0), {**_row(0.5), "tasks": 2, "tasks_working": 2, "tasks_with_loss": 2, "winners": 2})
    loss, out = _over_processes(a, b)
    assert out["reward_best"] == pytest.approx((0.9 + 2 * 0.5) / 3)  # the three working tasks' mean
    assert loss == pytest.approx((3.0 + 2 * 1.0) / 3)  # the three finite losses' mean
    assert out["tasks"] == 4 and out["winners"] == 3 and out["diversity"] == pytest.approx(0.1)


def test_ddp_round_figures_fall_back_to_all_tasks_when_none_works():
    a = (None, {**_row(WORST), "tasks": 1, "tasks_working": 0, "tasks_with_loss": 0})
    b = (None, {**_row(WORST), "tasks": 3, "tasks_working": 0, "tasks_with_loss": 0})
    loss, out = _over_processes(a, b)
    assert loss is None and out["reward_best"] == WORST and out["broken"] == 6
