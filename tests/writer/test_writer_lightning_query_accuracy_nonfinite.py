"""The writer stage's query accuracy when a written network's logits are NaN: a NaN row predicts nothing and counts
as wrong, as verify counts it (argmax read it as class 0: val/query_acc was class 0's share of the query labels)."""

from __future__ import annotations

import math

import torch

from metanet.nets import Arch, build
from metanet.writer.episodes import Episode
from metanet.writer.lightning import WriterModule

ARCH = Arch.parse("mlp:64-16-10:relu")


def _episode() -> Episode:
    g = torch.Generator().manual_seed(0)
    x, qx = torch.rand(20, 64, generator=g), torch.rand(10, 64, generator=g)
    with torch.no_grad():
        qy = build(ARCH, seed=0)(qx).argmax(-1)  # the finite network is right on the first half
    qy[5:] = 0
    return Episode("digits", ARCH, (x, torch.arange(20) % 10), (qx, qy), {})


def test_written_networks_with_nan_logits_score_0_and_finite_ones_are_scored(monkeypatch):
    m = WriterModule(hidden=8, message=4)
    net = dict(build(ARCH, seed=0).named_parameters())
    finite = {k: v.detach()[None] for k, v in net.items()}
    nan = {k: v * math.nan for k, v in finite.items()}
    monkeypatch.setattr(m.writer, "write", lambda *a, **kw: [finite, nan])
    ep = _episode()
    loss, accs = m._episode_loss(ep)
    qx, qy = ep.query
    expected = (build(ARCH, seed=0)(qx).argmax(-1) == qy).float().mean().item()
    assert accs[0] == expected >= 0.5
    assert accs[1] == 0.0  # was class 0's share of the query labels (at least half)
    assert math.isnan(loss.item())
