"""A LoopModule round in which every candidate is broken (no loss) on one process of a DDP run: its training_step
gives a zero loss on the writer's weights (Lightning refuses None under DDP and the run ended; the other processes
wait for this one's gradients), and None on one process (Lightning skips the step)."""

from __future__ import annotations

from types import SimpleNamespace

import torch

import metanet.loop.lightning as ll


def _step(monkeypatch, world_size):
    monkeypatch.setattr(ll, "round_loss", lambda writer, batch, cfg, reward, seed: (None, {"tasks": 1,
                                                                                          "tasks_with_loss": 0}))
    m = ll.LoopModule(writer=None, hidden=8, message=4, candidates=2)
    m._trainer = SimpleNamespace(world_size=world_size, global_step=0)
    monkeypatch.setattr(m, "log", lambda *a, **k: None)
    monkeypatch.setattr(m, "_round_over_processes", lambda loss, stats: (loss, stats))  # no process group here
    return m.training_step([object()], 0)


def test_an_all_broken_round_under_ddp_returns_a_zero_loss_on_the_writer(monkeypatch):
    out = _step(monkeypatch, 2)
    assert isinstance(out, torch.Tensor) and out.requires_grad and out.item() == 0.0


def test_an_all_broken_round_on_one_process_is_skipped(monkeypatch):
    assert _step(monkeypatch, 1) is None
