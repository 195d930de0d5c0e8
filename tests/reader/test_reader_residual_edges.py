"""The reader tells a skip MLP's residual edges (``edge_kind`` 1, value 1) from weight edges: it gives them the
residual flag and no weight value. Read by the wrong kind code, they were weights of value 1 and the reading of a
skip network was that of a network whose skips are ordinary connections of weight 1."""

from __future__ import annotations

import torch

from metanet.graph import to_graph
from metanet.graph.data import EDGE_RESIDUAL, EDGE_WEIGHT
from metanet.nets import build
from reader_helpers import tiny_reader


def test_residual_edges_are_read_as_skips_not_as_weights_of_value_one():
    graph = to_graph(build("mlp:64-8-8-8-10:relu:skip", seed=0))
    resid = graph.edge_kind == EDGE_RESIDUAL
    assert int(resid.sum()) == 16 and bool((graph.edge_attr[resid, 0] == 1).all())
    as_weights = graph.clone()
    as_weights.edge_kind = torch.where(resid, EDGE_WEIGHT, graph.edge_kind)
    reader = tiny_reader()
    with torch.no_grad():
        skip, plain = reader(graph), reader(as_weights)
        again = reader(graph.clone())
    assert all(torch.equal(skip[k], again[k]) for k in skip)  # deterministic: a difference below is the kind's
    assert not torch.allclose(skip["role"], plain["role"])
    assert not torch.allclose(skip["accuracy"], plain["accuracy"])
