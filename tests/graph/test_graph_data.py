"""`NeuralGraph` as PyG data: batching with Batch / DataLoader (no custom collate), splitting back, decoding; a
one-graph Batch has its graph's layout and edge mask."""

from __future__ import annotations

import pytest
import torch
from graph_helpers import mixed_zoo
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from metanet.errors import GraphError
from metanet.graph import NODE_DIM, NODE_FEATURES, NeuralGraph, from_graph, to_graph
from metanet.nets import build


def test_dataloader_batches_mixed_architectures_and_each_graph_decodes_exactly():
    nets = mixed_zoo()
    graphs = [to_graph(m, edge_dim=25) for m, _ in nets]  # one edge width for all: 5x5 kernels, 25 positions
    loader = DataLoader(graphs, batch_size=4, shuffle=False)
    seen = 0
    for batch in loader:
        assert isinstance(batch, Batch) and isinstance(batch, NeuralGraph)
        assert batch.x.shape[1] == NODE_DIM and batch.edge_attr.shape[1] == 25
        assert isinstance(batch.arch, list) and len(batch.arch) == batch.num_graphs
        assert int(batch.edge_index.max()) < batch.num_nodes
        for g in batch.to_data_list():
            m, shape = nets[seen]
            assert isinstance(g, NeuralGraph)
            back = from_graph(g)
            x = torch.randn(3, *shape)
            assert torch.equal(back(x), m(x))
            assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), back.state_dict().values()))
            seen += 1
    assert seen == len(nets)


def test_batch_keeps_per_graph_offsets_and_kinds():
    a, b = to_graph(build("mlp:3-2-2:relu", seed=0)), to_graph(build("mlp:4-3-1:relu", seed=1))
    batch = Batch.from_data_list([a, b])
    assert batch.node_kind.tolist() == a.node_kind.tolist() + b.node_kind.tolist()
    assert batch.node_pos.tolist() == a.node_pos.tolist() + b.node_pos.tolist()  # not incremented
    assert torch.equal(batch.edge_index[:, a.num_edges:], b.edge_index + a.num_nodes)
    assert batch.batch.tolist() == [0] * a.num_nodes + [1] * b.num_nodes


def test_graph_helpers():
    g = to_graph(build("cnn:1-2-3:relu:k3", seed=0), edge_dim=10)
    assert g.edge_dim == 10
    assert g.layout.sizes == (1, 2, 3)
    mask = g.edge_mask()
    assert mask.shape == (g.num_edges, 10) and int(mask.sum()) == 2 * 9 + 6
    assert len(NODE_FEATURES) == NODE_DIM == 6
    with pytest.raises(GraphError, match="batch of 2 graphs; split it"):
        Batch.from_data_list([g, g]).layout
    with pytest.raises(GraphError, match="no 'arch' attribute"):
        NeuralGraph(x=g.x).layout


def test_graphs_survive_torch_save(tmp_path):
    # the NeuralGraph docstring's recipe: the graph's tensors, loaded weights-only (the project never unpickles)
    for m in (build("mlp:4-3-2:relu", seed=0), build("cnn:1-2-3:relu:k3", seed=0)):
        path = tmp_path / "g.pt"
        torch.save(to_graph(m).to_dict(), path)
        g = NeuralGraph.from_dict(torch.load(path, weights_only=True))
        assert isinstance(g, NeuralGraph)
        decoded = from_graph(g).state_dict()
        assert decoded.keys() == m.state_dict().keys()
        assert all(torch.equal(decoded[k], v) for k, v in m.state_dict().items())


def test_one_graph_batch_has_its_graphs_layout_and_edge_mask():
    g = to_graph(build("cnn:1-2-3:relu:k3", seed=0))
    b = next(iter(DataLoader([g], batch_size=1)))
    assert b.layout is g.layout
    mask = b.edge_mask()
    assert mask.shape == b.edge_attr.shape and torch.equal(mask, g.edge_mask())
    two = Batch.from_data_list([g, g])
    with pytest.raises(GraphError, match="batch of 2 graphs"):
        two.layout
    with pytest.raises(GraphError, match="batch of 2 graphs"):
        two.edge_mask()


# --- NeuralGraphBatch is public ---------------------------------------------------------------------------------------


def test_neural_graph_batch_is_public_in_metanet_graph():
    # it is what Batch.from_data_list of NeuralGraphs gives (isinstance checks); only metanet.graph.data had it
    import metanet.graph
    from metanet.graph import NeuralGraphBatch
    from metanet.graph.data import NeuralGraphBatch as defined
    from torch_geometric.data import Batch

    assert NeuralGraphBatch is defined and "NeuralGraphBatch" in metanet.graph.__all__
    g = metanet.graph.to_graph(torch.nn.Sequential(torch.nn.Linear(3, 2)))
    assert isinstance(Batch.from_data_list([g, g]), NeuralGraphBatch)
