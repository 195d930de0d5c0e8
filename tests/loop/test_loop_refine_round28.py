"""Round 28: activity refinement of a network holding a layer its forward pass does not call."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.errors import ArchError
from metanet.loop import refine


class _AuxHead(nn.Module):
    """A classifier with an auxiliary head that ``forward`` does not use."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(8, 3)
        self.aux = nn.Linear(8, 5)

    def forward(self, x):
        return self.body(x)


class _NoLayerCalled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return x[:, :3] * self.scale


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 8, generator=g)
    return x, x[:, :3].argmax(1)


def test_activity_refinement_skips_a_layer_forward_does_not_call():
    # was a raw KeyError naming the unused layer
    net = _AuxHead()
    res = refine(net, _data(), method="activity", steps=5, population=4, verify_on=None)
    assert torch.equal(res.model.aux.weight, net.aux.weight) and torch.equal(res.model.aux.bias, net.aux.bias)
    assert not torch.equal(res.model.body.weight, net.body.weight)  # the used layer is refined
    assert len(res.history) == 5


def test_activity_refinement_of_a_network_calling_none_of_its_layers_is_an_arch_error():
    with pytest.raises(ArchError, match="calls none of its layers.*'perturbation' or 'sgd'"):
        refine(_NoLayerCalled(), _data(), method="activity", steps=2, population=2, verify_on=None)
