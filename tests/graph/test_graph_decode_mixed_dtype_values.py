"""A graph whose node features and edge values have different dtypes (x cast to float64, edge_attr left float32)
names no one network dtype: from_graph refuses it by name instead of building a module with float32 weights and
float64 biases."""

from __future__ import annotations

import copy

import pytest
import torch

from metanet.errors import GraphError
from metanet.graph import from_graph, from_graphs, to_graph, to_state_dict
from metanet.nets import build


def test_x_and_edge_attr_of_different_dtypes_are_refused() -> None:
    g = copy.copy(to_graph(build("mlp:3-4-2:relu", seed=0)))
    g.x = g.x.double()
    why = r"x is torch.float64 but edge_attr is torch.float32; both must have the network's dtype"
    with pytest.raises(GraphError, match=why):
        from_graph(g)
    with pytest.raises(GraphError, match=why):
        to_state_dict(g)
    with pytest.raises(GraphError, match=why):
        from_graphs([g])
    g.edge_attr = g.edge_attr.double()  # one dtype again: decoded in it
    assert all(p.dtype == torch.float64 for p in from_graph(g).parameters())
