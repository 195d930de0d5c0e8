"""A skip network's graph made undirected (torch_geometric.transforms.ToUndirected) is refused naming that cause, as
a plain network's is: the transform coalesces first, merging each residual edge with the weight edge it duplicates,
so the graph has 2 * (E - residual) edges, which the hint did not recognise (it looked for E - residual more)."""

from __future__ import annotations

import pytest
import torch_geometric.transforms as T
from torch_geometric.data import Batch

import metanet
from metanet.errors import GraphError
from metanet.graph import from_graphs
from metanet.nets import build


@pytest.mark.parametrize("arch", ["mlp:4-3-3-2:relu:skip", "mlp:4-3-3-3-2:tanh:skip"])
def test_an_undirected_skip_graph_is_refused_naming_the_reversed_edges(arch):
    g = metanet.to_graph(build(arch, seed=0))
    with pytest.raises(GraphError, match="each edge reversed, as torch_geometric.transforms.ToUndirected adds"):
        metanet.from_graph(T.ToUndirected()(g.clone()))


def test_a_batch_of_undirected_skip_graphs_is_refused_naming_the_reversed_edges():
    gs = [T.ToUndirected()(metanet.to_graph(build("mlp:4-3-3-2:relu:skip", seed=s))) for s in range(2)]
    with pytest.raises(GraphError, match="each edge reversed"):
        from_graphs(Batch.from_data_list(gs))
