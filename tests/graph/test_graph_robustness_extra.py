"""Awkward-but-legitimate inputs to the neural-graph API: meta-device graphs moved or batched by PyG, NumPy integer
arguments, frozen parameters, sparse or extra parameters, corrupt ``arch`` text and plot options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from metanet.errors import GraphError
from metanet.graph import (
    batch_params,
    describe,
    from_graph,
    from_graphs,
    permute_hidden,
    plot,
    split,
    to_batch,
    to_graph,
)
from metanet.nets import Arch, build


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))


def _meta_mlp() -> nn.Sequential:
    with torch.device("meta"):
        return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))


# --- meta device ---------------------------------------------------------------------------------
def test_meta_graph_moved_by_pyg_decodes_to_meta_module():
    g = to_graph(_mlp()).clone().to("meta")  # structure tensors are meta copies, not the layout's own
    m = from_graph(g)
    assert all(p.is_meta for p in m.parameters())
    assert m[0].weight.shape == (4, 6)


def test_meta_graph_split_from_batch_decodes():
    g = to_graph(_meta_mlp())
    b = Batch.from_data_list([g, g])
    assert from_graph(split(b)[1])[2].weight.is_meta
    assert from_graphs(b).params["0.weight"].shape == (2, 4, 6)


def test_meta_to_batch_decodes_and_batch_params():
    m = _meta_mlp()
    params = {k: v[None].expand(3, *v.shape) for k, v in m.state_dict().items()}
    b = to_batch(m, params)
    pop = from_graphs(b)
    assert pop.params["2.weight"].shape == (3, 3, 4) and pop.params["2.weight"].is_meta
    assert batch_params(b)[0].params["0.bias"].shape == (3, 4)


def test_meta_structure_with_real_values_is_a_graph_error():
    g = to_graph(_mlp())
    g.edge_index = g.edge_index.to("meta")
    with pytest.raises(GraphError, match="meta.*graph.to"):
        from_graph(g)


def test_describe_meta_graph_gives_counts_plot_refuses():
    g = to_graph(_meta_mlp())
    d = describe(g)
    assert d.layers[1].weights == {"count": 24} and d.layers[1].bias == {"count": 4}
    assert "sequential:6-4-3" in str(d)
    with pytest.raises(GraphError, match="meta"):
        plot(g)


# --- permute_hidden ------------------------------------------------------------------------------
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


# --- to_graph inputs -----------------------------------------------------------------------------
def test_edge_dim_numpy_integer_is_accepted_float_is_named():
    m = _mlp()
    assert to_graph(m, edge_dim=np.int64(3)).edge_attr.shape == (36, 3)
    with pytest.raises(GraphError, match="must be an integer") as e:
        to_graph(m, edge_dim=2.0)
    assert "too small" not in str(e.value)


def test_sparse_parameter_is_a_graph_error():
    m = nn.Sequential(nn.Linear(3, 2))
    m[0].weight = nn.Parameter(m[0].weight.detach().to_sparse())
    with pytest.raises(GraphError, match="dense.*0.weight|0.weight.*to_dense"):
        to_graph(m)


def test_extra_parameter_would_be_lost_is_a_graph_error():
    m = nn.Sequential(nn.Linear(3, 2))
    m[0].scale = nn.Parameter(torch.ones(1))
    with pytest.raises(GraphError, match="0.scale"):
        to_graph(m)


def test_tied_weights_still_encode():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    m[2].weight = m[0].weight
    m2 = from_graph(to_graph(m))
    assert torch.equal(m2[2].weight, m[0].weight)


# --- decoding inputs -----------------------------------------------------------------------------
def test_deeply_nested_arch_json_is_a_graph_error():
    g = to_graph(_mlp())
    bad = Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr, arch="[" * 100000)
    with pytest.raises(GraphError, match="malformed"):
        from_graph(bad)


def test_sliced_batch_list_names_the_problem():
    g = to_graph(_mlp())
    b = Batch.from_data_list([g, g])
    with pytest.raises(GraphError, match="list of 1 graphs"):
        from_graph(b[0:1])
    with pytest.raises(GraphError, match="list of 2 graphs"):
        describe(b[0:2])


# --- plot options --------------------------------------------------------------------------------
@pytest.mark.parametrize("max_edges", [0, -3, 2.5, True])
def test_plot_rejects_bad_max_edges(max_edges):
    with pytest.raises(GraphError, match="max_edges"):
        plot(_mlp(), max_edges=max_edges)


@pytest.mark.parametrize("figsize", [(0, 0), "big", (float("nan"), 2.0), (3.0,)])
def test_plot_rejects_bad_figsize(figsize):
    with pytest.raises(GraphError, match="figsize"):
        plot(_mlp(), figsize=figsize)


def test_plot_accepts_numpy_figsize_and_max_edges():
    fig = plot(build(Arch.parse("mlp:8-5-3:relu"), seed=0), figsize=np.array([3.0, 2.0]), max_edges=np.int64(10))
    assert tuple(fig.get_size_inches()) == (3.0, 2.0)
    assert "showing" in fig.axes[0].get_title()
