"""`metanet.verify` of a list of networks that keep a parameter also in a plain Python list (an unregistered
reference): each is scored on its own weights. The stacked pass swaps only registered tensors, so every network read
the first model's copy of the listed weight (model 1 scored with model 0's last layer)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet


class Listed(nn.Module):
    """Its head's weight is read through a plain list, not through the registered attribute."""

    def __init__(self, seed: int, view: bool = False) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body, self.head = nn.Linear(64, 32), nn.Linear(32, 10)
        self.view = view
        with torch.no_grad():  # a view kept as a leaf (one computed with grad cannot be deep-copied)
            self.weights = [self.head.weight.t() if view else self.head.weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights[0].t() if self.view else self.weights[0]
        return F.linear(F.relu(self.body(x.flatten(1))), w, self.head.bias)


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (net.eval()(x).argmax(1) == y).double().mean().item()


@pytest.mark.parametrize("view", [False, True], ids=["same-parameter", "a-view-of-it"])
def test_each_network_of_a_list_is_scored_on_its_own_listed_weight(view):
    nets = [Listed(0, view), Listed(1, view), Listed(2, view)]
    x, y = metanet.tasks.resolve("digits").split("test")
    want = [_accuracy(n, x, y) for n in nets]
    assert len(set(want)) > 1  # the networks differ: model 0's weight for all would show
    got = [r.accuracy for r in metanet.verify(nets, "digits")]
    assert got == pytest.approx(want, abs=1e-12)
    assert got == [metanet.verify(n, "digits").accuracy for n in nets]


def test_only_a_reference_outside_the_registered_slots_counts():
    from metanet.verify import _held_elsewhere

    assert _held_elsewhere(Listed(0))
    plain = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.Linear(32, 10))
    assert not _held_elsewhere(plain)  # its networks stay one stacked pass
    assert not _held_elsewhere(nn.LSTM(8, 8))  # torch keeps an LSTM's _flat_weights in step with functional_call
    tied = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    tied[1].weight = tied[0].weight  # tied in registered slots: functional_call handles it
    assert not _held_elsewhere(tied)
