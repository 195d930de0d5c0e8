"""`from_graph` on malformed graphs: every defect is a GraphError naming it, never a silently different network
(corrupt ``arch`` text, sliced batch lists, meta-device structure, coalesced skip graphs explained); meta-device
graphs moved or split by PyG still decode."""

from __future__ import annotations

import json

import pytest
import torch
from graph_helpers import _meta_mlp, _mlp
from torch_geometric.data import Batch, Data

from metanet.errors import GraphError
from metanet.graph import (
    EDGE_RESIDUAL,
    NODE_ACT,
    NODE_BIAS,
    NeuralGraph,
    batch_params,
    describe,
    from_graph,
    from_graphs,
    split,
    to_batch,
    to_graph,
)
from metanet.nets import build


def _graph(arch: str = "mlp:4-3-3-2:relu:skip", **kw) -> tuple[torch.nn.Module, NeuralGraph]:
    m = build(arch, seed=0)
    return m, to_graph(m, **kw)


def _copy(g: NeuralGraph, **changes) -> NeuralGraph:
    d = {k: getattr(g, k) for k in g.keys()}
    d.update(changes)
    return NeuralGraph(**{k: v for k, v in d.items() if v is not None})


def test_shuffled_edges_decode_to_the_same_network():
    m, g = _graph()
    perm = torch.randperm(g.num_edges, generator=torch.Generator().manual_seed(0))
    shuffled = _copy(g, edge_index=g.edge_index[:, perm], edge_attr=g.edge_attr[perm], edge_kind=g.edge_kind[perm])
    back = from_graph(shuffled)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), back.state_dict().values()))


def test_minimal_graph_without_integer_tensors_decodes():
    m, g = _graph("cnn:1-2-3:relu:k3")
    bare = Data(x=g.x, edge_index=g.edge_index.clone(), edge_attr=g.edge_attr, arch=g.arch)
    back = from_graph(bare)
    x = torch.randn(2, 1, 6, 6)
    assert torch.equal(back(x), m(x))


def test_padding_columns_are_ignored():
    m, g = _graph("mlp:4-3-2:relu", edge_dim=4)
    noisy = g.edge_attr.clone()
    noisy[:, 1:] = 7.0
    back = from_graph(_copy(g, edge_attr=noisy))
    assert torch.equal(back.layers[0].weight, m.layers[0].weight)


def test_a_one_graph_batch_is_accepted_and_split_gives_graphs_back():
    m, g = _graph()
    back = from_graph(Batch.from_data_list([g]))
    assert torch.equal(back.layers[1].weight, m.layers[1].weight)
    graphs = split(Batch.from_data_list([g, g]))
    assert len(graphs) == 2 and all(isinstance(h, NeuralGraph) for h in graphs)
    with pytest.raises(GraphError, match="split\\(\\) needs a torch_geometric Batch"):
        split(g)


def test_batch_given_to_from_graph_points_to_from_graphs():
    _, g = _graph()
    with pytest.raises(GraphError, match="batch of 2 graphs; use from_graphs\\(batch\\).*split\\(batch\\)"):
        from_graph(Batch.from_data_list([g, g]))


def test_wrong_edge_count():
    _, g = _graph()
    bad = _copy(g, edge_index=g.edge_index[:, :-1], edge_attr=g.edge_attr[:-1], edge_kind=g.edge_kind[:-1])
    with pytest.raises(GraphError, match=r"has 29 edges but its architecture \(mlp:4-3-3-2:relu:skip\) has 30 \(per weight layer: \[12, 12, 6\]\)"):
        from_graph(bad)


def test_wrong_node_count():
    _, g = _graph()
    with pytest.raises(GraphError, match=r"has 11 nodes but its architecture .* has 12 neurons \(per layer: \[4, 3, 3, 2\]\)"):
        from_graph(_copy(g, x=g.x[:-1], node_kind=None))


def test_nan_weight_names_the_layer():
    _, g = _graph()
    ea = g.edge_attr.clone()
    ea[14, 0] = float("nan")
    with pytest.raises(GraphError, match=r"edge 14 \(weight layer 2, layer layers.1 \(Linear 3->3\)\) holds nan in column 0; weights must be finite"):
        from_graph(_copy(g, edge_attr=ea))


def test_nan_in_padding_is_harmless_but_nan_bias_is_not():
    m, g = _graph("mlp:4-3-2:relu", edge_dim=2)
    ea = g.edge_attr.clone()
    ea[0, 1] = float("inf")
    assert torch.equal(from_graph(_copy(g, edge_attr=ea)).layers[0].weight, m.layers[0].weight)
    x = g.x.clone()
    x[5, NODE_BIAS] = float("nan")
    with pytest.raises(GraphError, match=r"bias of node 5 \(hidden neuron 1 of layer 1\) is nan"):
        from_graph(_copy(g, x=x))


def test_unknown_node_kind():
    _, g = _graph()
    nk = g.node_kind.clone()
    nk[3] = 7
    with pytest.raises(GraphError, match=r"node 3 has unknown kind 7; valid: 0 \(input\), 1 \(hidden\), 2 \(output\)"):
        from_graph(_copy(g, node_kind=nk))


def test_node_kind_that_disagrees_with_the_architecture():
    _, g = _graph()
    nk = g.node_kind.clone()
    nk[5] = 0
    with pytest.raises(GraphError, match=r"node_kind\[5\] is 0 but the architecture says 1 for node 5 \(hidden neuron 1 of layer 1\)"):
        from_graph(_copy(g, node_kind=nk))


def test_unknown_edge_kind():
    _, g = _graph()
    ek = g.edge_kind.clone()
    ek[0] = 5
    with pytest.raises(GraphError, match=r"edge 0 has unknown kind 5; valid: 0 \(weight\), 1 \(residual\)"):
        from_graph(_copy(g, edge_kind=ek))


def test_edge_kind_swapped_in_canonical_order():
    _, g = _graph()
    ek = g.edge_kind.clone()
    ek[0] = EDGE_RESIDUAL
    with pytest.raises(GraphError, match=r"edge 0 is marked residual but the architecture has a weight edge there \(node 0 .*-> node 4"):
        from_graph(_copy(g, edge_kind=ek))


def test_edge_that_skips_a_layer():
    _, g = _graph()
    ei = g.edge_index.clone()
    ei[1, 0] = 11  # input neuron 0 -> output neuron 1
    with pytest.raises(GraphError, match=r"edge 0 \(weight, node 0 \(input neuron 0 of layer 0\) -> node 11 \(output neuron 1 of layer 3\)\) is not a connection of the architecture \(layer 0 -> layer 3\)"):
        from_graph(_copy(g, edge_index=ei))


def test_duplicate_edge():
    _, g = _graph()
    ei = g.edge_index.clone()
    ei[:, 1] = ei[:, 0]
    with pytest.raises(GraphError, match=r"appears 2 times; every connection must appear exactly once"):
        from_graph(_copy(g, edge_index=ei))


def test_edge_to_a_missing_node():
    _, g = _graph()
    ei = g.edge_index.clone()
    ei[1, 2] = 99
    with pytest.raises(GraphError, match=r"edge 2 \(2 -> 99\) refers to a node outside 0..11"):
        from_graph(_copy(g, edge_index=ei))


def test_reordered_edges_without_edge_kind_are_refused():
    _, g = _graph()
    d = Data(x=g.x, edge_index=g.edge_index.flip(1), edge_attr=g.edge_attr.flip(0), arch=g.arch)
    with pytest.raises(GraphError, match="not in the canonical order and the graph has no edge_kind"):
        from_graph(d)


def test_residual_weight_must_be_one():
    _, g = _graph()
    ea = g.edge_attr.clone()
    ea[g.edge_kind == EDGE_RESIDUAL] = 0.5
    with pytest.raises(GraphError, match=r"residual edge 21 around layer layers.1 \(Linear 3->3\) has weight 0.5.*must have weight 1"):
        from_graph(_copy(g, edge_attr=ea))


def test_bias_on_a_neuron_without_bias():
    _, g = _graph("mlp:4-3-2:relu:nobias")
    x = g.x.clone()
    x[4, NODE_BIAS] = 0.25
    with pytest.raises(GraphError, match=r"node 4 \(hidden neuron 0 of layer 1\) has bias 0.25 but its layer has no bias parameter"):
        from_graph(_copy(g, x=x))


def test_node_features_that_disagree_with_arch():
    _, g = _graph()
    x = g.x.clone()
    x[6, NODE_ACT] = 2.0
    with pytest.raises(GraphError, match=r"x\[6, 3\] \(act\) is 2.0 but the architecture gives 1.0"):
        from_graph(_copy(g, x=x))


def test_edge_attr_too_narrow_for_kernels():
    _, g = _graph("cnn:1-2-3:relu:k3")
    with pytest.raises(GraphError, match=r"edge_attr has 4 columns but layer layers.0 \(Conv2d 1->2, kernel 3x3\) needs 9"):
        from_graph(_copy(g, edge_attr=g.edge_attr[:, :4]))


@pytest.mark.parametrize(
    "arch, pattern",
    [
        (None, "no 'arch' attribute"),
        ("{not json", "architecture JSON is malformed"),
        ("mlp:4-x-2", "malformed widths"),
        (json.dumps({"family": "rnn"}), "unknown architecture family 'rnn'; valid: mlp, cnn, sequential"),
        (json.dumps({"family": "sequential", "layers": [{"type": "lstm"}]}), "unknown type 'lstm'"),
        (json.dumps({"family": "sequential", "layers": [{"type": "linear", "in": 4}]}), "'out' must be a positive integer"),
        (json.dumps([1, 2]), "must be a dict with a 'family' key"),
    ],
)
def test_bad_arch(arch, pattern):
    _, g = _graph()
    with pytest.raises(GraphError, match=pattern):
        from_graph(_copy(g, arch=None) if arch is None else _copy(g, arch=arch))


def test_arch_may_be_a_dict_or_an_arch_string():
    m, g = _graph("mlp:4-3-2:tanh")
    for arch in (json.loads(g.arch), "mlp:4-3-2:tanh"):
        back = from_graph(Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr, arch=arch))
        assert torch.equal(back.layers[1].bias, m.layers[1].bias)


def test_missing_and_mistyped_attributes():
    _, g = _graph()
    with pytest.raises(GraphError, match="no 'edge_attr' attribute"):
        from_graph(Data(x=g.x, edge_index=g.edge_index, arch=g.arch))
    with pytest.raises(GraphError, match="edge_attr must be a floating-point tensor"):
        from_graph(_copy(g, edge_attr=g.edge_attr.long()))
    with pytest.raises(GraphError, match="expected a NeuralGraph"):
        from_graph("graph.pt")


# --- populations ---------------------------------------------------------------------------------------
def test_from_graphs_refuses_mixed_architectures():
    _, a = _graph("mlp:4-3-2:relu")
    _, b = _graph("mlp:4-5-2:relu")
    with pytest.raises(GraphError, match="one architecture, got 2: mlp:4-3-2:relu; mlp:4-5-2:relu"):
        from_graphs(Batch.from_data_list([a, b]))
    with pytest.raises(GraphError, match="one architecture, got 2"):
        from_graphs([a, b])
    with pytest.raises(GraphError, match="no graphs"):
        from_graphs([])


def test_from_graphs_checks_every_graph_of_a_batch():
    m = build("mlp:4-3-2:relu", seed=0)
    params = {k: torch.stack([v.detach()] * 3) for k, v in m.named_parameters()}
    batch = to_batch(m, params)
    batch.edge_attr[-1, 0] = float("nan")
    with pytest.raises(GraphError, match="graph 2: edge 17 .* holds nan"):
        from_graphs(batch)
    batch = to_batch(m, params)
    batch.edge_index = batch.edge_index.flip(1)
    with pytest.raises(GraphError, match="graph 0 of the batch has edges that differ"):
        from_graphs(batch)
    graphs = [to_graph(m), to_graph(m, edge_dim=2)]
    with pytest.raises(GraphError, match="one edge width, got \\[1, 2\\]"):
        from_graphs(graphs)


def test_meta_device_graph_decodes_to_a_meta_module():
    # a network on the meta device (shapes, no values) encodes; its graph must decode too, not crash in the
    # value checks with NotImplementedError (aten::equal has no meta kernel)
    m = build("mlp:4-3-3-2:relu:skip", seed=0).to("meta")
    back = from_graph(to_graph(m))
    assert type(back) is type(m) and all(p.is_meta for p in back.parameters())
    assert [p.shape for p in back.parameters()] == [p.shape for p in m.parameters()]
    pop = from_graphs([to_graph(m), to_graph(m)])
    assert pop.params["layers.0.weight"].shape == (2, 3, 4) and pop.params["layers.0.weight"].is_meta


def test_decoding_a_graph_that_requires_grad_does_not_warn():
    # a writer's output graph carries autograd history; decoding it must not warn about converting it to a scalar
    import warnings

    m, g = _graph()
    written = _copy(g, edge_attr=g.edge_attr.clone().requires_grad_(), x=g.x.clone().requires_grad_())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = from_graph(written)
    assert torch.equal(back.layers[0].weight, m.layers[0].weight)


def test_meta_graph_moved_by_pyg_decodes_to_meta_module():
    g = to_graph(_mlp()).clone().to("meta")  # structure tensors are meta copies, not the layout's own
    m = from_graph(g)
    assert all(p.is_meta for p in m.parameters())
    assert m[0].weight.shape == (4, 6)


def test_meta_graph_split_from_batch_decodes():
    g = to_graph(_meta_mlp())
    b = Batch.from_data_list([g, g])
    assert from_graph(split(b)[1])[2].weight.is_meta
    assert from_graphs(b).params["0.weight"].shape == (2, 4, 6)


def test_meta_structure_with_real_values_is_a_graph_error():
    g = to_graph(_mlp())
    g.edge_index = g.edge_index.to("meta")
    with pytest.raises(GraphError, match="meta.*graph.to"):
        from_graph(g)


def test_deeply_nested_arch_json_is_a_graph_error():
    g = to_graph(_mlp())
    bad = Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr, arch="[" * 100000)
    with pytest.raises(GraphError, match="malformed"):
        from_graph(bad)


def test_sliced_batch_list_names_the_problem():
    g = to_graph(_mlp())
    b = Batch.from_data_list([g, g])
    with pytest.raises(GraphError, match="list of 1 graphs"):
        from_graph(b[0:1])
    with pytest.raises(GraphError, match="list of 2 graphs"):
        describe(b[0:2])


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
