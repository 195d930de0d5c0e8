"""``improve(clip=...)``: the writer's gradient is clipped to that max-norm before every update."""

from __future__ import annotations

import torch

import metanet.loop.core as core
from metanet.loop import improve


def _norms_at_update(writer, task, clip, monkeypatch):
    norms = []
    real = core._step_whole

    def spy(opt, w):
        grads = [p.grad for p in w.parameters() if p.grad is not None]
        norms.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())
        return real(opt, w)

    monkeypatch.setattr(core, "_step_whole", spy)
    improve(writer, [task], rounds=1, candidates=3, clip=clip, track=False)
    return norms


def test_the_gradient_is_clipped_to_clip_before_the_update(small, monkeypatch):
    from loop_helpers import make_diverse_writer

    free = _norms_at_update(make_diverse_writer(), small, 1e6, monkeypatch)
    assert len(free) == 1 and free[0] > 1e-3  # a real gradient, larger than the clip below
    clipped = _norms_at_update(make_diverse_writer(), small, 1e-3, monkeypatch)
    assert len(clipped) == 1 and 0 < clipped[0] <= 1e-3 * (1 + 1e-5)
