"""Neural graphs with PyG: MLP and CNN graphs in one ``DataLoader`` batch (a shared ``edge_dim``), a graph saved and
loaded weights-only (its ``to_dict()``, as the ``NeuralGraph`` docstring says), and ``plot``'s ``figsize`` check."""

from __future__ import annotations

import io

import pytest
import torch
from torch_geometric.loader import DataLoader

from metanet.errors import GraphError
from metanet.graph import NeuralGraph, batch_params, from_graph, plot, to_graph
from metanet.nets import build

MLP, CNN = "mlp:4-3-2:relu", "cnn:1-2-3:relu:k3"


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)


def test_mlp_and_cnn_graphs_share_a_dataloader_batch_with_one_edge_dim():
    nets = [build(MLP, seed=0), build(CNN, seed=1), build(MLP, seed=2)]
    graphs = [to_graph(n, edge_dim=9) for n in nets]  # the CNN's own width; the MLPs' single column zero-padded
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.num_graphs == 3 and batch.edge_attr.shape == (sum(g.num_edges for g in graphs), 9)
    for net, g in zip(nets, batch.to_data_list()):
        assert type(g) is NeuralGraph and _same(from_graph(g), net)
    groups = batch_params(batch)
    assert [p.graphs.tolist() for p in groups] == [[0, 2], [1]]
    assert torch.equal(groups[1].params["layers.0.weight"][0], nets[1].state_dict()["layers.0.weight"])


def test_a_graph_saved_as_its_dict_loads_weights_only():
    # torch.save(graph) pickles PyG internals that weights_only=True refuses; the dict of its tensors does not
    nets = [build(CNN, seed=0).double(), build("mlp:3-2-2-1:tanh:skip", seed=1)]
    buf = io.BytesIO()
    torch.save([to_graph(n).to_dict() for n in nets], buf)
    buf.seek(0)
    loaded = [NeuralGraph.from_dict(d) for d in torch.load(buf, weights_only=True)]
    for net, g in zip(nets, loaded):
        assert type(g) is NeuralGraph and isinstance(g.arch, str) and _same(from_graph(g), net)


@pytest.mark.parametrize("figsize", [(10**400, 3), (4, -(10**400))])
def test_plot_refuses_a_figsize_beyond_float_range(figsize):
    # math.isfinite(10**400) raised a raw OverflowError instead of the figsize error
    with pytest.raises(GraphError, match=r"figsize must be \(width, height\) in inches"):
        plot(to_graph(build(MLP, seed=0)), figsize=figsize)
