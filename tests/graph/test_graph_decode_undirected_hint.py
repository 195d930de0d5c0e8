"""A graph made undirected (torch_geometric.transforms.ToUndirected: every edge also reversed) is refused naming that
cause: the message gave only the edge counts (36 for 18)."""

from __future__ import annotations

import pytest
import torch_geometric.transforms as T
from torch_geometric.data import Batch

import metanet
from metanet.errors import GraphError
from metanet.graph import from_graphs
from metanet.nets import build


@pytest.mark.parametrize("arch", ["mlp:4-3-2", "cnn:1-2-3:relu:k3:s2"])
def test_an_undirected_graph_is_refused_naming_the_reversed_edges(arch):
    g = metanet.to_graph(build(arch, seed=0))
    with pytest.raises(GraphError, match="each edge reversed, as torch_geometric.transforms.ToUndirected adds"):
        metanet.from_graph(T.ToUndirected()(g.clone()))


def test_a_batch_of_undirected_graphs_is_refused_naming_the_reversed_edges():
    gs = [T.ToUndirected()(metanet.to_graph(build("mlp:4-3-2", seed=s))) for s in range(2)]
    with pytest.raises(GraphError, match="each edge reversed"):
        from_graphs(Batch.from_data_list(gs))


def test_a_graph_with_a_few_extra_edges_gets_no_such_hint():
    import torch

    g = metanet.to_graph(build("mlp:4-3-2", seed=0)).clone()
    g.edge_index = torch.cat([g.edge_index, g.edge_index[:, :2]], 1)
    g.edge_attr = torch.cat([g.edge_attr, g.edge_attr[:2]])
    with pytest.raises(GraphError) as info:
        metanet.from_graph(g)
    assert "reversed" not in str(info.value)
