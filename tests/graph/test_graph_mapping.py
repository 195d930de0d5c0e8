"""`Layout`: the differentiable, vectorised parameter <-> graph-value mapping writers and readers build on; one
network has one arch key, specs that `from_spec` cannot build (unknown keys, missing fields) are refused when the
layout is made, a generated network or a file path hint, and the layout cache bounded by its edge budget; `layout`
of a one-graph Batch is its graph's, of a batch of several graphs or a Data without an architecture a GraphError
saying so; verify decides "is it a graph" by the graph code's one rule (`mapping.is_graph`)."""

from __future__ import annotations

import gc
import json
import weakref

import pytest
import torch
from generated_helpers import fake_generated
from graph_helpers import any_network
from hypothesis import HealthCheck, given, settings
from torch.func import functional_call, stack_module_state
from torch_geometric.data import Batch

import metanet.graph.mapping as mapping
from metanet import io
from metanet.errors import GraphError
from metanet.graph import NODE_BIAS, NODE_DIM, Layout, batch_params, from_graph, layout, to_batch, to_graph
from metanet.nets import build, from_spec, spec


def test_layout_is_cached_per_architecture_whatever_names_it():
    m = build("mlp:784-64-10:relu", seed=0)
    lay = layout(m)
    assert layout("mlp:784-64-10:relu") is lay
    assert layout(spec(m)) is lay
    assert layout(to_graph(m).arch) is lay
    assert layout(m.arch) is lay
    assert layout(lay) is lay
    assert isinstance(lay, Layout) and (lay.num_nodes, lay.num_edges, lay.edge_dim) == (858, 50816, 1)
    assert lay.param_names == ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias")


def test_layout_of_something_else_is_refused():
    with pytest.raises(GraphError, match="cannot find the architecture of a int"):
        layout(3)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_network)
def test_params_round_trip_through_graph_values_with_a_population_dim(case):
    m = case.module
    lay = layout(m)
    params = {k: torch.stack([v.detach(), -v.detach(), v.detach() * 3]) for k, v in m.named_parameters()}
    edge_attr, node_bias = lay.from_params(params, edge_dim=lay.edge_dim + 2)
    assert edge_attr.shape == (3, lay.num_edges, lay.edge_dim + 2) and node_bias.shape == (3, lay.num_nodes)
    back = lay.to_params(edge_attr, node_bias)
    assert list(back) == list(params)
    assert all(torch.equal(back[k], params[k]) for k in params)
    # the single graph's values are the population's first member
    g = to_graph(m, edge_dim=lay.edge_dim + 2)
    assert torch.equal(g.edge_attr, edge_attr[0]) and torch.equal(g.x, lay.node_features(node_bias)[0])
    # index tensors give the same values as a flat gather
    for k, s in lay.slots.items():
        idx = lay.index(k, edge_dim=lay.edge_dim + 2)
        src = g.edge_attr.reshape(-1) if s.source == "edge" else g.x[:, NODE_BIAS]
        assert torch.equal(src[idx], params[k][0])


def test_to_params_is_a_differentiable_gather():
    lay = layout("cnn:1-2-3:relu:k3")
    edge_attr = torch.randn(4, lay.num_edges, 12, requires_grad=True)
    node_bias = torch.randn(4, lay.num_nodes, requires_grad=True)
    params = lay.to_params(edge_attr, node_bias)
    assert params["layers.0.weight"].shape == (4, 2, 1, 3, 3)
    sum(p.sum() for p in params.values()).backward()
    # gradient 1 exactly on the real entries, 0 on padding and on neurons without a bias
    assert torch.equal(edge_attr.grad, lay.edge_mask(12).float().expand(4, -1, -1))
    assert torch.equal(node_bias.grad, lay.node_has_bias.float().expand(4, -1))


def test_from_params_is_differentiable_and_feeds_functional_call():
    models = [build("mlp:5-4-4-3:gelu:skip", seed=s) for s in range(3)]
    stacked, _ = stack_module_state(models)
    lay = layout(models[0])
    edge_attr, node_bias = lay.from_params(stacked)
    x = lay.node_features(node_bias)
    assert x.shape == (3, lay.num_nodes, NODE_DIM) and x.requires_grad
    params = lay.to_params(edge_attr, x[..., NODE_BIAS])
    inp = torch.randn(2, 5)
    out = functional_call(models[0], {k: v[1] for k, v in params.items()}, (inp,))
    assert torch.allclose(out, models[1](inp))
    out.sum().backward()
    assert stacked["layers.0.weight"].grad is not None and stacked["layers.0.weight"].grad[1].abs().sum() > 0
    assert stacked["layers.0.weight"].grad[0].abs().sum() == 0


def test_residual_edges_and_padding_are_constant():
    lay = layout("mlp:3-2-2-2:relu:skip")
    params = {k: torch.zeros(s.shape) for k, s in lay.slots.items()}
    edge_attr, _ = lay.from_params(params, edge_dim=3)
    res = lay.edge_kind == 1
    assert edge_attr[res].tolist() == [[1.0, 0.0, 0.0]] * 2
    assert not edge_attr[~res].any()


def test_edge_mask_and_slices():
    lay = layout("cnn:2-3-4:relu:k5")
    mask = lay.edge_mask(30)
    assert mask.shape == (lay.num_edges, 30)
    assert mask[lay.edges(1)].sum(1).tolist() == [25] * 6 and mask[lay.edges(2)].sum(1).tolist() == [1] * 12
    assert lay.nodes(1) == slice(2, 5)
    with pytest.raises(GraphError, match="neuron layer 3 does not exist; valid: 0..2"):
        lay.nodes(3)
    with pytest.raises(GraphError, match="weight layer 0 does not exist; valid: 1..2"):
        lay.edges(0)


def test_mismatched_params_are_named():
    lay = layout("mlp:4-3-2:relu")
    good = {k: torch.zeros(s.shape) for k, s in lay.slots.items()}
    with pytest.raises(GraphError, match=r"missing \['layers.1.bias'\], unexpected \['extra'\]"):
        lay.from_params({**{k: v for k, v in good.items() if k != "layers.1.bias"}, "extra": torch.zeros(1)})
    with pytest.raises(GraphError, match=r"'layers.0.weight' has shape \(4, 3\); .* needs \(3, 4\)"):
        lay.from_params({**good, "layers.0.weight": torch.zeros(4, 3)})
    with pytest.raises(GraphError, match=r"edge values of shape \(5, 1\) do not fit"):
        lay.to_params(torch.zeros(5, 1), torch.zeros(9))
    with pytest.raises(GraphError, match=r"node biases of shape \(8,\) do not fit .* expected \(9,\)"):
        lay.to_params(torch.zeros(lay.num_edges, 1), torch.zeros(8))
    with pytest.raises(GraphError, match="one network's parameters"):
        lay.build({k: v.unsqueeze(0) for k, v in good.items()})
    with pytest.raises(GraphError, match="has no parameter 'nope'"):
        lay.index("nope")


def test_build_without_params_gives_a_fresh_module():
    lay = layout("mlp:4-3-2:relu")
    m = lay.build()
    assert [tuple(p.shape) for p in m.parameters()] == [(3, 4), (3,), (2, 3), (2,)]
    assert not any(p.is_meta for p in m.parameters())


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


def test_plan_spec_of_a_partial_family_dict_is_complete():
    lay = layout(json.dumps({"family": "cnn", "widths": [1, 2, 3]}))
    assert lay.spec == build("cnn:1-2-3:relu", seed=0).arch.to_dict()


def test_layout_of_a_generated_network_and_a_path_hint(tmp_path):
    g = fake_generated()
    assert layout(g) is layout(g.model) is layout(to_graph(g.model))
    path = io.save(g.model, tmp_path / "n.safetensors")
    with pytest.raises(GraphError, match=r"file path .*reads architectures, not files: give "
                                         r"layout\(metanet.load\(path\)\)"):
        layout(str(path))
    with pytest.raises(GraphError, match="invalid architecture 'mlp:4-x-2:relu'"):
        layout("mlp:4-x-2:relu")  # an architecture string is still read as one


def test_layout_cache_drops_least_recent_layouts_beyond_its_edge_budget(monkeypatch):
    # every Layout holds ~56 bytes per edge; 256 cached wide layouts (a width sweep) held tens of GB
    monkeypatch.setattr(mapping, "_CACHE_EDGES", 2_000, raising=False)
    archs = [f"mlp:{w}-{w}-3:relu" for w in (31, 32, 33)]  # 1,054 / 1,120 / 1,188 edges: two never fit together
    first = weakref.ref(layout(archs[0]))
    for a in archs[1:]:
        layout(a)
    model = build(archs[1], seed=0)  # the same architecture by other routes (module, Arch) is cached too
    layout(model)
    gc.collect()
    assert first() is None, "a layout beyond the cache's edge budget is still alive"
    assert layout(archs[2]) is layout(archs[2])  # the newest layout stays cached
    # an evicted architecture is rebuilt on demand and still encodes / decodes exactly
    g = to_graph(model)
    back = from_graph(g)
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), model.state_dict().values()))


def test_layout_of_batches_and_plain_data(graph):
    """layout() of a one-graph Batch (DataLoader batch_size=1) was "cannot find the architecture of a
    NeuralGraphBatch", though graph.layout, from_graph and describe take it as its graph; a batch of several now says
    so, and a Data without an architecture says what is missing."""
    from torch_geometric.data import Batch, Data

    from metanet.errors import GraphError
    from metanet.graph import layout

    assert layout(Batch.from_data_list([graph])) is layout(graph)
    with pytest.raises(GraphError, match="batch of 2 graphs.*split"):
        layout(Batch.from_data_list([graph, graph]))
    with pytest.raises(GraphError, match="no 'arch' attribute"):
        layout(Data(x=torch.zeros(2, 6)))
    with pytest.raises(GraphError, match="cannot find the architecture of a Tensor"):
        layout(torch.zeros(3))


def test_verify_and_the_graph_code_share_one_rule(graph, monkeypatch):
    import metanet.graph.mapping as mapping
    from metanet.verify import _is_graph

    assert _is_graph(graph) and not _is_graph(torch.zeros(46)) and not _is_graph([graph])
    monkeypatch.setattr(mapping, "is_graph", lambda obj: False)
    assert not _is_graph(graph)  # verify asks the graph code's rule
