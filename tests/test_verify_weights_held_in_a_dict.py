"""A network whose forward reads a weight through a plain dict (``self.named = {"head": self.head.weight}``) keeps it
outside its registered slot as a list does: ``verify`` of a list of them scores each on its own weight (the dict's
values are what is looked through, not its keys); the stacked pass read model 0's weight for every network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet
from metanet.verify import _held_elsewhere


class _Named(nn.Module):
    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body, self.head = nn.Linear(64, 32), nn.Linear(32, 10)
        self.named = {"head": self.head.weight}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.relu(self.body(x.flatten(1))), self.named["head"], self.head.bias)


def test_a_weight_held_in_a_dict_is_found() -> None:
    assert _held_elsewhere(_Named(0))
    net = _Named(0)
    net.named = {"head": 1}  # a dict of numbers holds no weight
    assert not _held_elsewhere(net)


def test_each_network_of_a_list_is_scored_on_its_own_dict_held_weight() -> None:
    nets = [_Named(s) for s in range(3)]
    x, y = metanet.tasks.resolve("digits").split("test")
    with torch.no_grad():
        want = [(n.eval()(x).argmax(1) == y).double().mean().item() for n in nets]
    assert len(set(want)) > 1  # model 0's weight for all would show
    assert [r.accuracy for r in metanet.verify(nets, "digits")] == pytest.approx(want, abs=1e-12)
