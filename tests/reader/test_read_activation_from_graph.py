"""`metanet.read`'s ``activation`` is the one the network's hidden neurons apply, which its neural graph records: the
shipped head, trained on relu / tanh / gelu MLPs only, named one of those for networks that apply another (a
sigmoid MLP read as relu) or none (a linear model read as relu / gelu)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.nets import build
from reader_helpers import needs_shipped, tiny_reader


@needs_shipped
@pytest.mark.parametrize("arch, applied", [
    ("mlp:784-32-10:sigmoid", "sigmoid"),  # the head never saw sigmoid: it said relu
    ("mlp:64-16-16-10:silu", "silu"),
    ("mlp:784-32-10:tanh", "tanh"),
    ("mlp:784-10:relu", "identity"),  # no hidden layer: the spec's relu is applied nowhere
    ("mlp:64-10:gelu", "identity"),
])
def test_shipped_reader_names_the_activation_the_network_applies(arch, applied):
    out = metanet.read(build(arch, seed=0), scan=False)
    assert out["hyperparameters"]["activation"] == applied


@pytest.mark.parametrize("first, second", [(nn.Sigmoid, nn.SiLU), (nn.Sigmoid, nn.Tanh), (nn.LeakyReLU, nn.ReLU)])
def test_mixed_activations_are_one_of_the_networks_own(first, second):
    # a plain nn.Sequential that applies two activations: the head chooses between those two, never a third (the
    # untrained tiny reader's head alone says silu for every network: the pairs without silu tell the two apart)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 8), first(), nn.Linear(8, 8), second(), nn.Linear(8, 10))
    out = metanet.read(net, reader=tiny_reader(), scan=False)
    names = {nn.Sigmoid: "sigmoid", nn.SiLU: "silu", nn.Tanh: "tanh", nn.LeakyReLU: "leaky_relu", nn.ReLU: "relu"}
    assert out["hyperparameters"]["activation"] in (names[first], names[second])
