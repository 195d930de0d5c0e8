"""Round 27: batch_params reads values by position, so a batch whose edges were reordered must be refused."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph import batch_params, from_graph, to_graph
from metanet.nets import build


def test_batch_params_refuses_reordered_edges_instead_of_returning_other_weights():
    mlp, cnn = build("mlp:3-4-2:relu", seed=0), build("cnn:1-2-2:relu:k3:s1", seed=1)
    g, c = to_graph(mlp, edge_dim=9), to_graph(cnn)
    moved = g.clone().sort(sort_by_row=True)  # PyG reorders edges (and edge_attr with them)
    assert not torch.equal(moved.edge_index, g.edge_index)
    assert all(torch.equal(from_graph(moved).state_dict()[k], v) for k, v in mlp.state_dict().items())
    with pytest.raises(GraphError, match="graph 1 of the batch has its edges in another order.*from_graph"):
        batch_params(Batch.from_data_list([c, moved]))
    # the canonical order still works, also for an int32 edge_index
    b = Batch.from_data_list([c, g])
    b.edge_index = b.edge_index.to(torch.int32)
    groups = batch_params(b)
    assert torch.equal(groups[1].params["layers.0.weight"][0], mlp.layers[0].weight.detach())


@pytest.mark.parametrize(
    "layer, fragment",
    [
        ({"type": "linear", "in": 3, "out": 2}, "'bias' must be true or false, got None"),
        ({"type": "linear", "in": 3, "out": 2, "bias": "false"}, "'bias' must be true or false, got 'false'"),
        ({"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "padding": [1, 1], "bias": True}, "'stride' must be"),
    ],
)
def test_a_spec_from_spec_cannot_build_is_refused_when_encoding_not_when_decoding(layer, fragment):
    from metanet.graph import layout, to_graphs

    spec = {"family": "sequential", "layers": [layer]}
    # before: layout / to_graphs accepted it (a missing bias read as True) and only from_graph failed, later
    with pytest.raises(GraphError, match=fragment):
        layout(spec)
    with pytest.raises(GraphError, match=fragment):
        to_graphs(spec, {"0.weight": torch.zeros(2, 2, 3), "0.bias": torch.zeros(2, 2)})
