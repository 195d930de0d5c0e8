"""``improve`` steps the writer on a finite gradient and skips the whole update when any of its gradients is not
finite (a broken candidate's NaN: Adam made the writer NaN), as the Lightning loop stage does."""

from __future__ import annotations

import math

import torch

import metanet.loop.core as core
from metanet.loop import improve


def _run(writer, small, monkeypatch, poison):
    def fake_round(w, batch, cfg, reward, seed):
        params = list(w.parameters())
        loss = sum(p.sum() for p in params)
        if poison and torch.is_grad_enabled():
            loss = loss + params[0].sum() * math.nan  # one tensor's gradient NaN, the others finite
        return loss, {"tasks": len(batch), "tasks_with_loss": 1}

    monkeypatch.setattr(core, "round_loss", fake_round)
    before = [p.detach().clone() for p in writer.parameters()]
    improve(writer, [small], rounds=1, candidates=2, track=False)
    return before, [p.detach() for p in writer.parameters()]


def test_a_finite_gradient_updates_the_writer(small, tiny_writer, monkeypatch):
    before, after = _run(tiny_writer, small, monkeypatch, poison=False)
    assert any(not torch.equal(b, a) for b, a in zip(before, after))


def test_one_non_finite_gradient_skips_the_whole_update(small, tiny_writer, monkeypatch):
    before, after = _run(tiny_writer, small, monkeypatch, poison=True)
    assert all(torch.equal(b, a) for b, a in zip(before, after))
