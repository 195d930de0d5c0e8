"""A Linear layer reading Flatten(C x H x W) of a conv output is stored with kernel (1, S): S = H * W values per
channel edge, laid out as one row (the WeightLayer docstring), which describe() shows as "1xS"."""

from __future__ import annotations

import torch
from torch import nn

from metanet.graph import describe, from_graph, layout, to_graph


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    # 1x4x4 input -> conv 3x3 -> 2 channels of 2x2 -> Flatten (8 = 2 channels x 4 positions) -> 3 classes
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def test_linear_after_flatten_has_kernel_one_by_positions() -> None:
    net = _net()
    lay = layout(net)
    head = lay.layers[1]
    assert (head.type, head.n_in, head.n_out, head.kernel, head.kk) == ("linear", 2, 3, (1, 4), 4)
    d = describe(net)
    assert d.layers[2].kernel == [1, 4] and d.layers[1].kernel == [3, 3]
    assert "1x4" in str(d)
    # edge (o, c) holds W[o, 4c:4c+4], zero-padded to the conv's 9 columns
    g = to_graph(net)
    w = net[3].weight.detach()
    rows = g.edge_attr[lay.edges(2)]
    assert torch.equal(rows[:, :4], w.reshape(3, 2, 4).reshape(6, 4)) and not rows[:, 4:].any()
    assert torch.equal(from_graph(g)[3].weight, w)
