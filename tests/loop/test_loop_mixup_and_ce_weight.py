"""The expert distillation set and the optional cross-entropy of a loop round, as the docstrings say: ``mixup`` copies
of the support inputs (each row a random interpolation of two support inputs, drawn anew for every seed) follow the
support inputs, and ``ce_weight`` adds that multiple of the cross-entropy of every working candidate's logits on the
support inputs against their labels."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from loop_helpers import toy_task

import metanet.loop.core as core
import metanet.writer.lightning as writer_lightning
from metanet.loop import LoopConfig
from metanet.loop.rewards import WORST, AccuracyReward
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


class _Fixed:
    """K fixed candidates (seeded random tensors), the same every write."""

    def __init__(self, k: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.params = {n: torch.randn((k, *v.shape), generator=g) for n, v in build(ARCH, seed=0).state_dict().items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        return {n: v.clone().requires_grad_() for n, v in self.params.items()}


def _rewarded(monkeypatch, rewards):
    def score(lt, params, reward):
        return torch.tensor(rewards, dtype=torch.float64), [SimpleNamespace(accuracy=0.5)] * len(rewards)

    monkeypatch.setattr(core, "score_candidates", score)


def _distil_inputs_of(monkeypatch, lt, seed, mixup):
    """The inputs the round's candidates are distilled on (what written_logits is given)."""
    seen = []
    real = writer_lightning.written_logits

    def spy(arch, params, x):
        seen.append(x.clone())
        return real(arch, params, x)

    monkeypatch.setattr(writer_lightning, "written_logits", spy)
    core._task_loss(_Fixed(3), lt, LoopConfig(candidates=3, mixup=mixup), AccuracyReward(), seed)
    monkeypatch.setattr(writer_lightning, "written_logits", real)
    return seen[-1]  # diversity's call comes first, on the val inputs


def test_mixup_copies_interpolate_pairs_of_support_inputs_anew_for_every_seed(monkeypatch):
    lt = toy_task(ARCH)
    _rewarded(monkeypatch, [0.2, 0.9, 0.5])
    sx = lt.support[0]
    n = len(sx)
    xs = _distil_inputs_of(monkeypatch, lt, 5, mixup=2)
    assert xs.shape == (3 * n, sx.shape[1])
    assert torch.equal(xs[:n], sx)
    copies = sum(any(torch.allclose(row, s) for s in sx) for row in xs[n:])
    assert copies < n // 2  # mixes, not copies of the support inputs (a row mixed with itself is one)
    for row in xs[n:]:
        # on the segment between two support inputs: row = lam a + (1 - lam) b for some pair (a, b), 0 <= lam <= 1
        fits = []
        for a in sx:
            for b in sx:
                d = a - b
                if d.norm() < 1e-6:
                    continue
                lam = ((row - b) @ d / (d @ d)).item()
                fits.append(-1e-5 <= lam <= 1 + 1e-5 and torch.allclose(lam * a + (1 - lam) * b, row, atol=1e-5))
        assert any(fits)
    # another round (seed) draws other interpolations; the same seed the same ones
    assert not torch.allclose(_distil_inputs_of(monkeypatch, lt, 6, mixup=2)[n:], xs[n:])
    assert torch.equal(_distil_inputs_of(monkeypatch, lt, 5, mixup=2), xs)


@pytest.mark.parametrize("method", ["expert", "awr"])
def test_ce_weight_adds_the_support_cross_entropy_of_the_working_candidates(monkeypatch, method):
    lt = toy_task(ARCH)
    rewards = [0.2, WORST, 0.9, 0.5]
    _rewarded(monkeypatch, rewards)
    w = _Fixed(4)
    cfg = dict(method=method, candidates=4, mixup=1)
    base, _ = core._task_loss(w, lt, LoopConfig(**cfg), AccuracyReward(), 5)
    with_ce, _ = core._task_loss(w, lt, LoopConfig(**cfg, ce_weight=0.3), AccuracyReward(), 5)
    sx, sy = lt.support
    ce = []
    for i in (0, 2, 3):  # the working candidates (1 is broken)
        net = build(ARCH, seed=0)
        net.load_state_dict({k: v[i] for k, v in w.params.items()})
        ce.append(F.cross_entropy(net(sx), sy))
    expected = base.item() + 0.3 * torch.stack(ce).mean().item()
    assert with_ce.item() == pytest.approx(expected, rel=1e-5)
