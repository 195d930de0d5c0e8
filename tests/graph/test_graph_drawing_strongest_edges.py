"""``plot(max_edges=...)`` keeps the strongest edges of every layer (as documented and as the title says: "showing
the N strongest"): the edges drawn are the widest ones of the full drawing, not an arbitrary or the weakest subset."""

from __future__ import annotations

import matplotlib
import torch

from metanet.graph import plot
from metanet.nets import build


def _widths(fig) -> list[torch.Tensor]:
    lines = [c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.LineCollection)]
    return [torch.as_tensor(c.get_linewidths(), dtype=torch.float64).flatten() for c in lines]


def test_the_edges_kept_are_each_layers_strongest():
    net = build("mlp:64-32-10:relu", seed=0)
    full, thin = _widths(plot(net)), _widths(plot(net, max_edges=100))
    assert [len(w) for w in full] == [2048, 320]
    assert 0 < sum(len(w) for w in thin) <= 100
    for a, b in zip(full, thin):
        want = a.sort(descending=True).values[: len(b)]
        torch.testing.assert_close(b.sort(descending=True).values, want)
