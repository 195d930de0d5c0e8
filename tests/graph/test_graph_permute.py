"""Equivariance: permuting hidden neurons keeps the function and only relabels the nodes of the graph;
`permute_hidden` takes NumPy / tensor layer indices, a generated network or a saved path, keeps frozen parameters
frozen, and refuses a graph or an architecture with a clear GraphError (the to_graph hint only for a graph or a
batch of graphs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from generated_helpers import ARCH, fake_generated
from graph_helpers import _mlp, _same, any_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from metanet import io
from metanet.errors import GraphError
from metanet.graph import NeuralGraph, from_graph, layout, permute_hidden, tied_layers, to_graph
from metanet.nets import build
from torch import nn


def relabel(g: NeuralGraph, layers: list[int], perm: torch.Tensor) -> torch.Tensor:
    """sigma[old node] = new node when neurons of ``layers`` are reordered so that new j = old perm[j]."""
    lay = g.layout
    sigma = torch.arange(g.num_nodes)
    for l in layers:
        start = lay.node_start[l]
        sigma[start + perm] = start + torch.arange(len(perm))
    return sigma


def assert_same_graph_up_to(g1: NeuralGraph, g2: NeuralGraph, sigma: torch.Tensor) -> None:
    assert g1.arch == g2.arch and g1.num_nodes == g2.num_nodes and g1.num_edges == g2.num_edges
    assert torch.equal(g2.x[sigma], g1.x)
    for key in ("node_kind", "node_layer", "node_act", "node_pos"):
        assert torch.equal(getattr(g2, key)[sigma], getattr(g1, key))
    n = g1.num_nodes

    def canon(src, dst, kind, attr):
        keys = (kind * n + src) * n + dst
        order = torch.argsort(keys)
        return keys[order], attr[order]

    k1, a1 = canon(sigma[g1.edge_index[0]], sigma[g1.edge_index[1]], g1.edge_kind, g1.edge_attr)
    k2, a2 = canon(g2.edge_index[0], g2.edge_index[1], g2.edge_kind, g2.edge_attr)
    assert torch.equal(k1, k2)
    assert torch.equal(a1, a2)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_network, st.data())
def test_permuting_hidden_neurons_keeps_the_function_and_relabels_the_graph(case, data):
    m = case.module
    lay = layout(m)
    assume(lay.num_layers >= 2)
    layer = data.draw(st.integers(1, lay.num_layers - 1), label="layer")
    n = lay.sizes[layer]
    perm = torch.tensor(data.draw(st.permutations(range(n)), label="perm"))
    pm = permute_hidden(m, layer, perm)
    x = case.inputs()
    with torch.no_grad():
        assert torch.allclose(pm(x), m(x), rtol=1e-4, atol=1e-5)
    g1, g2 = to_graph(m), to_graph(pm)
    assert_same_graph_up_to(g1, g2, relabel(g1, tied_layers(lay, layer), perm))


def test_residual_chains_are_permuted_together():
    m = build("mlp:5-4-4-4-3:relu:skip", seed=0)
    lay = layout(m)
    assert tied_layers(lay, 2) == [1, 2, 3]
    perm = torch.tensor([2, 0, 3, 1])
    pm = permute_hidden(m, 2, perm)
    assert torch.equal(pm.layers[0].weight, m.layers[0].weight[perm])
    assert torch.equal(pm.layers[1].weight, m.layers[1].weight[perm][:, perm])
    x = torch.randn(6, 5)
    assert torch.allclose(pm(x), m(x), atol=1e-6)
    assert tied_layers(layout("mlp:5-4-4-3:relu"), 1) == [1]


def test_a_nontrivial_permutation_changes_the_graph_values():
    m = build("mlp:4-3-2:relu", seed=0)
    pm = permute_hidden(m, 1, [1, 2, 0])
    assert not torch.equal(to_graph(pm).edge_attr, to_graph(m).edge_attr)
    assert pm.training == m.training


def test_flatten_blocks_move_with_their_channel():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(3 * 4, 2))
    pm = permute_hidden(m, 1, [2, 0, 1])
    w, pw = m[3].weight.view(2, 3, 4), pm[3].weight.view(2, 3, 4)
    assert torch.equal(pw[:, 0], w[:, 2])
    x = torch.randn(2, 1, 4, 4)
    assert torch.allclose(pm(x), m(x), atol=1e-6)


@pytest.mark.parametrize(
    "layer, perm, pattern",
    [
        (0, [0, 1, 2, 3], r"layer 0 is not a hidden neuron layer of mlp:4-3-2:relu; valid: 1..1"),
        (2, [0, 1], "layer 2 is not a hidden"),
        (1, [0, 1], r"perm must be a permutation of 0..2 \(layer 1 has 3 neurons\)"),
        (1, [0, 0, 1], "perm must be a permutation"),
        # fractional indices were truncated to [1, 0, 2] and accepted
        (1, [1.9, 0.2, 2.5], "perm must be a permutation of 0..2 .*integers"),
        (1, torch.tensor([1.0, 0.0, 2.0]), "integers"),
        (1, [True, False, True], "integers"),
        (1, "012", "perm must be a permutation"),
    ],
)
def test_bad_permutations(layer, perm, pattern):
    with pytest.raises(GraphError, match=pattern):
        permute_hidden(build("mlp:4-3-2:relu", seed=0), layer, perm)


def test_named_sequential_layers_are_permuted():
    from collections import OrderedDict

    torch.manual_seed(2)
    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(6, 4)), ("act", nn.Tanh()), ("fc2", nn.Linear(4, 3))]))
    out = permute_hidden(model, 1, [2, 0, 3, 1])
    assert torch.equal(out.fc1.weight, model.fc1.weight[[2, 0, 3, 1]])
    x = torch.rand(5, 6)
    assert torch.allclose(out(x), model(x))


def test_permute_hidden_accepts_numpy_and_tensor_layer_index():
    m = _mlp().eval()
    x = torch.randn(5, 6)
    for layer in (np.int64(1), torch.tensor(1)):
        p = permute_hidden(m, layer, [3, 2, 1, 0])
        assert torch.allclose(p(x), m(x))
        assert torch.equal(p[0].weight, m[0].weight.flip(0))


def test_permute_hidden_rejects_2d_perm():
    with pytest.raises(GraphError, match="permutation of 0..3"):
        permute_hidden(_mlp(), 1, [[3, 2], [1, 0]])


def test_permute_hidden_keeps_frozen_parameters_frozen():
    m = _mlp()
    m[0].weight.requires_grad_(False)
    p = permute_hidden(m, 1, [1, 0, 3, 2])
    assert [q.requires_grad for q in p.parameters()] == [False, True, True, True]


def test_permute_hidden_takes_a_generated_network_and_a_path(tmp_path):
    g = fake_generated()
    perm = [2, 0, 1]
    want = permute_hidden(g.model, 1, perm)
    path = io.save(g.model, tmp_path / "n.safetensors")
    for obj in (g, path):
        got = permute_hidden(obj, 1, perm)
        assert all(torch.equal(got.state_dict()[k], v) for k, v in want.state_dict().items())
    assert not torch.equal(want.state_dict()["layers.1.weight"], g.model.state_dict()["layers.1.weight"])


def test_permute_hidden_of_a_graph_or_an_architecture_is_a_graph_error():
    graph = to_graph(build(ARCH, seed=0))
    with pytest.raises(GraphError, match=r"permutes a network's weights.*got NeuralGraph; for a graph use "
                                         r"to_graph\(permute_hidden\(from_graph\(graph\)"):
        permute_hidden(graph, 1, [0, 1, 2])
    with pytest.raises(GraphError, match="permutes a network's weights.*got dict$"):
        permute_hidden(build(ARCH).arch.to_dict(), 1, [0, 1, 2])
    # the graph route the message gives works
    assert _same(to_graph(permute_hidden(from_graph(graph), 1, [0, 1, 2])), graph)


def test_permute_hidden_hints_for_graphs_only(graph):
    from torch_geometric.data import Batch

    from metanet.errors import GraphError
    from metanet.graph import permute_hidden

    for g in (graph, Batch.from_data_list([graph, graph])):
        with pytest.raises(GraphError, match="for a graph use to_graph"):
            permute_hidden(g, 1, [0, 1, 2])
    with pytest.raises(GraphError) as e:
        permute_hidden(torch.zeros(3), 1, [0, 1, 2])
    assert "for a graph" not in str(e.value)
