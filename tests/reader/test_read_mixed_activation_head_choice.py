"""`metanet.read` of a network that applies two activations names the one of the two its activation head finds
likelier (the larger logit), not merely one of the network's own: the choice between them is the reader's reading."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.graph import to_graph
from metanet.reader.model import ACTIVATION_NAMES
from reader_helpers import tiny_reader

_NAMES = {nn.Sigmoid: "sigmoid", nn.SiLU: "silu", nn.Tanh: "tanh", nn.LeakyReLU: "leaky_relu", nn.ReLU: "relu"}


@pytest.mark.parametrize("first, second", [(nn.Sigmoid, nn.SiLU), (nn.Sigmoid, nn.Tanh), (nn.LeakyReLU, nn.ReLU),
                                           (nn.Tanh, nn.ReLU)])
def test_mixed_activations_name_the_one_with_the_larger_head_logit(first, second):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 8), first(), nn.Linear(8, 8), second(), nn.Linear(8, 10))
    reader = tiny_reader()
    with torch.no_grad():
        logits = reader(to_graph(net))["activation"][0]
    a, b = (ACTIVATION_NAMES.index(_NAMES[m]) for m in (first, second))
    assert float(logits[a]) != float(logits[b])  # else either answer would be right
    likelier = ACTIVATION_NAMES[a if logits[a] > logits[b] else b]
    assert metanet.read(net, reader=reader, scan=False)["hyperparameters"]["activation"] == likelier
