"""README's "Neural graphs" paragraph against what to_graph encodes: the node feature columns in the order it
lists them, input and output neurons keeping their index while hidden ones do not (so permuting hidden neurons
only permutes nodes), conv kernels flattened and padded on the edges, residual connections as edges of their own
kind. Tiny networks, no data."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from metanet.graph import EDGE_RESIDUAL, EDGE_WEIGHT, NODE_FEATURES, NODE_POS, to_graph
from metanet.nets import Arch, build

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
#: README spells two columns out in full
_SPELT_OUT = {"activation": "act", "position": "pos"}


def test_readme_lists_the_node_feature_columns_in_order():
    listed = re.search(r"Nodes carry `\[([^\]]+)\]`", README).group(1)
    names = [_SPELT_OUT.get(w.strip(), w.strip()) for w in listed.split(",")]
    assert tuple(names) == NODE_FEATURES


def test_input_and_output_neurons_keep_their_index_hidden_ones_do_not():
    net = build("mlp:4-3-2:relu", seed=0)
    x = to_graph(net).x
    assert x[:4, NODE_POS].tolist() == [0, 1, 2, 3]  # inputs
    assert x[-2:, NODE_POS].tolist() == [0, 1]  # outputs
    assert x[4:7, NODE_POS].unique().numel() == 1  # hidden: one value for all, no index
    # "so message passing is equivariant to hidden-neuron permutations": permuting the hidden neurons permutes
    # their nodes and changes no feature
    p = torch.tensor([2, 0, 1])
    perm = build("mlp:4-3-2:relu", seed=0)
    with torch.no_grad():
        perm.layers[0].weight.copy_(net.layers[0].weight[p])
        perm.layers[0].bias.copy_(net.layers[0].bias[p])
        perm.layers[1].weight.copy_(net.layers[1].weight[:, p])
    assert torch.equal(to_graph(perm).x, torch.cat([x[:4], x[4:7][p], x[7:]]))
    assert torch.equal(x[4:7, 0], net.layers[0].bias.detach())  # column 0: the neuron's bias


def test_conv_kernels_are_flattened_and_padded_on_the_edges():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    g = to_graph(net)
    assert g.edge_attr.shape[1] == 9
    for e in range(2):  # the conv's edges: input channel 0 -> output channel o
        o = int(g.edge_index[1, e]) - 1  # node 0 is the one input channel
        assert torch.equal(g.edge_attr[e], net[0].weight[o, 0].detach().flatten())
    linear = g.edge_attr[2:]  # one weight per edge, the other 8 columns padding
    assert torch.equal(linear[:, 1:], torch.zeros_like(linear[:, 1:]))
    assert torch.equal(linear[:, 0].sort().values, net[4].weight.detach().flatten().sort().values)


def test_residual_connections_are_edges_of_their_own_kind():
    arch = Arch(family="mlp", widths=(4, 3, 3, 2), activation="relu", bias=True, skips=True)
    g = to_graph(build(arch, seed=0))
    kinds = g.edge_kind.tolist()
    assert kinds.count(EDGE_RESIDUAL) == 3 and kinds.count(EDGE_WEIGHT) == 4 * 3 + 3 * 3 + 3 * 2
    plain = to_graph(build("mlp:4-3-3-2:relu", seed=0))
    assert EDGE_RESIDUAL not in plain.edge_kind.tolist()
