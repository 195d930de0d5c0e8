"""Decoding a graph whose zero-weight edges were dropped (a pruned network "sparsified" as PyG users often do): every
weight is an edge, a zero one too, and the error now says so (it named only the counts), for one graph, a batch
and batch_params; a skip graph short of exactly its residual edges keeps its own (coalesce) explanation."""

from __future__ import annotations

import importlib
import re

import pytest
import torch
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph import batch_params, from_graph, from_graphs, layout, to_graph
from metanet.nets import build

ZERO_EDGES = re.escape("every weight is an edge, a zero one (a pruned connection) too: keep edges of value 0")


def _sparsified():
    net = build("mlp:8-6-3:relu", seed=0)
    with torch.no_grad():
        net.layers[0].weight[:, ::2] = 0.0
    g = to_graph(net)
    keep = g.edge_attr[:, 0] != 0
    short = g.clone()
    short.edge_index, short.edge_attr, short.edge_kind = g.edge_index[:, keep], g.edge_attr[keep], g.edge_kind[keep]
    return short


def test_a_graph_without_its_zero_weight_edges_is_refused_saying_zero_weights_are_edges(monkeypatch) -> None:
    short = _sparsified()
    # two checks give the error: the plan's counts before the architecture's layout is cached (the first decode of
    # it in a process), the layout's after. Which one ran depended on the tests before this one: set it here
    decode = importlib.import_module("metanet.graph.decode")
    monkeypatch.setattr(decode, "_LAYOUT_CACHE", {})  # as in a fresh process
    with pytest.raises(GraphError, match=r"has 66 connections .*expected \(2, 66\); " + ZERO_EDGES):
        from_graph(short)
    monkeypatch.undo()
    layout(short.arch)
    assert short.arch in decode._LAYOUT_CACHE  # as after any earlier decode of this architecture
    with pytest.raises(GraphError, match=r"the graph has 42 edges but its architecture \(mlp:8-6-3:relu\) has 66 "
                                         r"\(per weight layer: \[48, 18\]\); " + ZERO_EDGES):
        from_graph(short)
    with pytest.raises(GraphError, match=ZERO_EDGES):
        from_graphs(Batch.from_data_list([short, short]))
    with pytest.raises(GraphError, match=ZERO_EDGES):
        batch_params(Batch.from_data_list([short, short]))


def test_the_zero_edge_hint_is_not_given_for_extra_edges_or_a_coalesced_skip_graph() -> None:
    g = to_graph(build("mlp:8-6-3:relu", seed=0))
    extra = g.clone()
    extra.edge_index = torch.cat([g.edge_index, g.edge_index[:, :1]], 1)
    extra.edge_attr = torch.cat([g.edge_attr, g.edge_attr[:1]])
    with pytest.raises(GraphError) as e:
        from_graph(extra)
    assert "zero" not in str(e.value)
    skip = to_graph(build("mlp:4-3-3-2:relu:skip", seed=0)).coalesce()
    with pytest.raises(GraphError) as e:
        from_graph(skip)
    assert "exactly its residual edges" in str(e.value) and "zero" not in str(e.value)
