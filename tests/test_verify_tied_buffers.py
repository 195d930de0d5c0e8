"""verify() on a network whose layers share one buffer (a constant registered in two submodules, as tied weights
share a Parameter): every layer that holds it reads its values. ``named_buffers()`` lists it once, under its first
name, so the meta copy the vectorised pass runs on must keep the second slot tied to the first; the tests of tied
weights covered Parameters only."""

from __future__ import annotations

import torch
from torch import nn

import metanet


class Scaled(nn.Module):
    """A Linear layer whose output is multiplied by a buffer ``s`` (shared between two of them)."""

    def __init__(self, lin: nn.Linear, s: torch.Tensor) -> None:
        super().__init__()
        self.lin = lin
        self.register_buffer("s", s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x) * self.s


def test_a_buffer_shared_by_two_layers_is_read_in_both():
    torch.manual_seed(0)
    s = torch.tensor([3.0, -1.0, 2.0, 0.5, 1.5, -2.0, 1.0, 0.25])
    net = nn.Sequential(Scaled(nn.Linear(6, 8), s), nn.Tanh(), Scaled(nn.Linear(8, 8), s)).eval()
    assert net[0].s is net[2].s and "2.s" not in dict(net.named_buffers())  # listed once, under the first name
    x = torch.rand(300, 6)  # task inputs lie in [0, 1]
    with torch.no_grad():
        y = net(x).argmax(1)  # the network's own predictions: it gets every example right
    report = metanet.verify(net, (x, y))
    assert report.n > 0
    assert report.accuracy == 1.0, report
