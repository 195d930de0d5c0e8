"""``LoopModule.training_step``: each optimisation step writes its candidates from a seed of its own (derived from
the step's index): the same starting points and noise every round would explore nothing new."""

from __future__ import annotations

import torch

import metanet.loop.lightning as loop_lightning
from metanet.loop.lightning import LoopModule


def _module(monkeypatch) -> LoopModule:
    m = LoopModule(writer=None, hidden=8, message=4, candidates=3, lr=1e-2)
    monkeypatch.setattr(m, "log", lambda *a, **kw: None)  # no Trainer
    return m


def test_each_step_draws_its_candidates_from_its_own_seed(monkeypatch):
    m = _module(monkeypatch)
    seeds = []

    def round_loss(writer, batch, cfg, reward, seed):
        seeds.append(seed)
        return torch.tensor(1.0, requires_grad=True), {"tasks": 1, "reward_mean": 0.5}

    monkeypatch.setattr(loop_lightning, "round_loss", round_loss)
    for step in (0, 1, 7):
        monkeypatch.setattr(LoopModule, "global_step", property(lambda self, s=step: s))
        m.training_step([], 0)
    assert len(set(seeds)) == 3

