"""`batch_params`: writer outputs over a mixed-architecture Batch -> parameters per network, differentiably; meta-device
batches, and batches whose edges were reordered (values are read by position) refused."""

from __future__ import annotations

import pytest
import torch
from graph_helpers import _meta_mlp, mixed_zoo
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph import EDGE_WEIGHT, batch_params, from_graph, from_graphs, to_batch, to_graph
from metanet.nets import build


def test_batch_params_maps_writer_outputs_to_each_network_differentiably():
    nets = mixed_zoo()
    graphs = [to_graph(m, edge_dim=25) for m, _ in nets] + [to_graph(nets[0][0], edge_dim=25)]
    batch = Batch.from_data_list(graphs)
    out = (batch.edge_attr * 1.0).requires_grad_(True)  # stand-in for a writer's per-edge output
    bias = batch.x[:, 0].clone().requires_grad_(True)
    groups = batch_params(batch, 2 * out, bias)
    assert sum(len(g.graphs) for g in groups) == len(graphs)
    first = groups[0]
    assert first.graphs.tolist() == [0, len(graphs) - 1]  # the same architecture twice, grouped
    for g in groups:
        for row, i in enumerate(g.graphs.tolist()):
            m = (nets + [nets[0]])[i][0]
            for name, p in m.named_parameters():
                want = p.detach() * (2 if name.endswith("weight") else 1)
                assert torch.equal(g.params[name][row], want), (i, name)
    sum(v.sum() for g in groups for v in g.params.values()).backward()
    assert out.grad.abs().sum() > 0 and bias.grad.abs().sum() > 0
    assert not out.grad[~batch_edge_mask(graphs)].any()  # padding and residual entries get no gradient
    # one architecture: plain views, no copy
    same = Batch.from_data_list([to_graph(nets[0][0])] * 3)
    (g,) = batch_params(same)
    assert g.graphs.tolist() == [0, 1, 2] and g.params["layers.0.weight"].shape == (3, 5, 6)


def batch_edge_mask(graphs):
    return torch.cat([g.edge_mask() & (g.edge_kind == EDGE_WEIGHT)[:, None] for g in graphs])


def test_batch_params_checks_shapes():
    batch = Batch.from_data_list([to_graph(build("mlp:3-2-2:relu", seed=0))] * 2)
    with pytest.raises(GraphError, match=r"edge values of shape \(3, 1\) do not match the batch.*\(E=20, F\)"):
        batch_params(batch, torch.zeros(3, 1))
    with pytest.raises(GraphError, match=r"node biases of shape \(5,\).*expected \(14,\)"):
        batch_params(batch, None, torch.zeros(5))


def test_meta_to_batch_decodes_and_batch_params():
    m = _meta_mlp()
    params = {k: v[None].expand(3, *v.shape) for k, v in m.state_dict().items()}
    b = to_batch(m, params)
    pop = from_graphs(b)
    assert pop.params["2.weight"].shape == (3, 3, 4) and pop.params["2.weight"].is_meta
    assert batch_params(b)[0].params["0.bias"].shape == (3, 4)


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
