"""Round 27b: a one-graph Batch is its graph everywhere, one network has one arch key, coalesced skip graphs are
explained."""

from __future__ import annotations

import json

import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from metanet.errors import GraphError
from metanet.graph import batch_params, from_graph, from_graphs, layout, to_batch, to_graph
from metanet.nets import build, from_spec, spec


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


def _seq(**extra_layer) -> dict:
    return {"family": "sequential", "layers": [
        {"type": "linear", "in": 4, "out": 3, "bias": True, **extra_layer}, {"type": "act", "name": "relu"},
        {"type": "dropout", "p": 0.5}, {"type": "linear", "in": 3, "out": 2, "bias": True}]}


def test_unknown_layer_key_is_refused_naming_it_and_the_valid_keys():
    bad = _seq(note="first layer")
    for fn, err in ((layout, GraphError), (from_spec, Exception)):
        with pytest.raises(err, match=r"unknown keys \['note'\].*'in', 'out', 'bias', 'module'"):
            fn(bad)


def test_unknown_top_level_key_is_refused():
    bad = {**_seq(), "comment": "mine"}
    with pytest.raises(GraphError, match=r"unknown keys \['comment'\].*valid keys: \['family', 'layers'\]"):
        layout(bad)
    with pytest.raises(Exception, match=r"unknown keys \['comment'\]"):
        from_spec(bad)


def test_one_network_one_arch_key():
    net = from_spec(_seq())
    key = layout(net).key
    # the same network written by hand: the default module name spelled out, an int dropout probability
    by_hand = _seq(module="0")
    by_hand["layers"][2]["p"] = 0.5
    assert layout(by_hand).key == key
    zero = _seq()
    zero["layers"][2]["p"] = 0
    assert layout(zero).key == layout(from_spec(zero)).key
    # a family dict with defaults left out is the module's arch
    mlp = build("mlp:4-3-2:relu", seed=0)
    assert layout({"family": "mlp", "widths": [4, 3, 2]}).key == layout(mlp).key == to_graph(mlp).arch
    # so batch_params sees one architecture, not two
    params = {k: v.detach().unsqueeze(0) for k, v in mlp.state_dict().items()}
    batch = Batch.from_data_list([to_graph(mlp), *to_batch({"family": "mlp", "widths": [4, 3, 2]}, params).to_data_list()])
    assert len(batch_params(batch)) == 1


def test_avgpool_without_divisor_override_is_refused_at_encode_time():
    d = {"family": "sequential", "layers": [
        {"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "bias": True},
        {"type": "avgpool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False,
         "count_include_pad": True},
        {"type": "flatten"}, {"type": "linear", "in": 8, "out": 2, "bias": True}]}
    with pytest.raises(GraphError, match="'divisor_override' is missing"):
        layout(d)  # before: a layout (and graphs) that from_graph could never decode
    d["layers"][1]["divisor_override"] = None
    assert spec(from_spec(d)) == d and layout(d).num_nodes == 5


def test_coalesced_skip_graph_error_says_what_happened():
    g = to_graph(build("mlp:4-3-3-2:relu:skip", seed=0))
    c = g.clone().coalesce()
    assert c.num_edges == g.num_edges - 3
    for _ in range(2):  # the first call checks counts before the layout, the second after it is cached
        with pytest.raises(GraphError) as e:
            from_graph(c)
        msg = str(e.value)
        assert "mlp:4-3-3-2:relu:skip" in msg and '"family"' not in msg
        assert "3 missing edges are exactly its residual edges" in msg and "coalesce()" in msg
    b = Batch.from_data_list([g, g]).coalesce()
    with pytest.raises(GraphError, match="6 missing edges are exactly its residual edges"):
        from_graphs(b)
    with pytest.raises(GraphError, match="6 missing edges are exactly its residual edges"):
        batch_params(b)
    # a graph short of edges for another reason gets no such story
    short = g.clone()
    short.edge_index, short.edge_attr = short.edge_index[:, :-1], short.edge_attr[:-1]
    with pytest.raises(GraphError) as e:
        from_graph(short)
    assert "coalesce" not in str(e.value)


def test_plan_spec_of_a_partial_family_dict_is_complete():
    lay = layout(json.dumps({"family": "cnn", "widths": [1, 2, 3]}))
    assert lay.spec == build("cnn:1-2-3:relu", seed=0).arch.to_dict()
