"""`to_graph` / `from_graph` and their population versions: exact round trips, documented layout, clear errors;
`to_graph` takes a network as metanet.verify does (a module, metanet.generate's result or a saved network's path),
NumPy integer arguments, tied weights; sparse or extra parameters and graphs given as networks are GraphErrors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from generated_helpers import ARCH, fake_generated
from graph_helpers import (
    Case,
    _mlp,
    _same,
    any_network,
    cnn_family,
    hand_built,
    mlp_family,
    sequential_cnn,
    sequential_mlp,
)
from hypothesis import HealthCheck, given, settings
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch_geometric.data import Batch

from metanet import io
from metanet.errors import FileFormatError, GraphError
from metanet.graph import (
    EDGE_RESIDUAL,
    EDGE_WEIGHT,
    HIDDEN,
    INPUT,
    NODE_ACT,
    NODE_BIAS,
    NODE_HAS_BIAS,
    NODE_KIND,
    NODE_LAYER,
    NODE_POS,
    OUTPUT,
    NeuralGraph,
    from_graph,
    from_graphs,
    to_batch,
    to_graph,
    to_graphs,
)
from metanet.nets import CNN, MLP, activation_code, build

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_round_trip(case: Case) -> None:
    m = case.module
    g = to_graph(m)
    assert isinstance(g, NeuralGraph)
    back = from_graph(g)
    assert type(back) is type(m)
    sd, sd2 = m.state_dict(), back.state_dict()
    assert list(sd) == list(sd2)
    for k in sd:
        assert sd[k].dtype == sd2[k].dtype and torch.equal(sd[k], sd2[k]), k
    x = case.inputs()
    with torch.no_grad():
        assert torch.equal(m(x), back(x))


@SETTINGS
@given(mlp_family())
def test_round_trip_mlp_family(case):
    assert_round_trip(case)


@SETTINGS
@given(cnn_family())
def test_round_trip_cnn_family(case):
    assert_round_trip(case)


@SETTINGS
@given(sequential_mlp())
def test_round_trip_plain_sequential_mlp(case):
    assert_round_trip(case)


@SETTINGS
@given(sequential_cnn())
def test_round_trip_plain_sequential_cnn(case):
    assert_round_trip(case)


def test_hand_built_network_round_trips():
    net, shape = hand_built()
    assert_round_trip(Case(net, shape))
    g = to_graph(net)
    # 3 input channels, 8 and 6 conv channels, 16 hidden units, 10 classes
    assert g.num_nodes == 3 + 8 + 6 + 16 + 10
    # the Linear after Flatten of a 6 x 3 x 3 map: one edge per (unit, channel) holding the 9 positions
    assert g.edge_attr.shape == (3 * 8 + 8 * 6 + 6 * 16 + 16 * 10, 15)
    lay = g.layout
    w = net[7].weight.detach().view(16, 6, 9)
    assert torch.equal(g.edge_attr[lay.edges(3)][:, :9], w.reshape(-1, 9))
    assert not g.edge_attr[lay.edges(3)][:, 9:].any()


def test_float64_network_round_trips_in_float64():
    m = build("mlp:6-5-3:tanh", seed=3).double()
    g = to_graph(m)
    assert g.x.dtype == g.edge_attr.dtype == torch.float64
    assert_round_trip(Case(m, (6,)))
    x = torch.randn(3, 6, dtype=torch.float64)
    assert from_graph(g)(x).dtype == torch.float64


def test_mlp_layout_is_as_documented():
    m = build("mlp:3-2-2:relu", seed=0)
    g = to_graph(m)
    w1, b1, w2, b2 = (p.detach() for p in m.parameters())
    # nodes layer by layer; edges row-major per weight: e = o * n_in + i, from input neuron i to output neuron o
    assert g.edge_index.tolist() == [[0, 1, 2, 0, 1, 2, 3, 4, 3, 4], [3, 3, 3, 4, 4, 4, 5, 5, 6, 6]]
    assert torch.equal(g.edge_attr[:, 0], torch.cat([w1.flatten(), w2.flatten()]))
    assert torch.equal(g.x[:, NODE_BIAS], torch.cat([torch.zeros(3), b1, b2]))
    assert g.x[:, NODE_LAYER].tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert g.node_kind.tolist() == [INPUT] * 3 + [HIDDEN] * 2 + [OUTPUT] * 2
    assert g.x[:, NODE_KIND].tolist() == [float(k) for k in g.node_kind.tolist()]
    assert g.node_pos.tolist() == [0, 1, 2, -1, -1, 0, 1]  # hidden neurons carry no index
    assert torch.equal(g.x[:, NODE_POS], g.node_pos.float())
    relu = activation_code("relu")
    assert g.node_act.tolist() == [0, 0, 0, relu, relu, 0, 0]
    assert torch.equal(g.x[:, NODE_ACT], g.node_act.float())
    assert g.x[:, NODE_HAS_BIAS].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert g.edge_kind.tolist() == [EDGE_WEIGHT] * 10
    assert isinstance(g.arch, str) and '"family":"mlp"' in g.arch


def test_residual_skips_are_edges_of_their_own_kind_with_weight_one():
    m = build("mlp:4-3-3-2:relu:skip", seed=0)
    g = to_graph(m)
    res = g.edge_kind == EDGE_RESIDUAL
    assert int(res.sum()) == 3
    assert torch.equal(g.edge_attr[res, 0], torch.ones(3))
    # neuron j of layer 1 -> neuron j of layer 2, right after layer 2's weight edges
    assert g.edge_index[:, res].tolist() == [[4, 5, 6], [7, 8, 9]]
    assert res.nonzero().flatten().tolist() == [12 + 9, 12 + 10, 12 + 11]
    assert_round_trip(Case(m, (4,)))


def test_cnn_edges_hold_kernels_and_gap_joins_channels_one_to_one():
    m = build("cnn:2-3-4-5:relu:k3:s1", seed=0)
    g = to_graph(m)
    lay = g.layout
    assert lay.sizes == (2, 3, 4, 5) and g.edge_attr.shape == (6 + 12 + 20, 9)
    conv2 = m.layers[1].weight.detach()
    assert torch.equal(g.edge_attr[lay.edges(2)], conv2.reshape(12, 9))
    head = g.edge_attr[lay.edges(3)]
    assert torch.equal(head[:, 0], m.layers[2].weight.detach().flatten()) and not head[:, 1:].any()


def test_edge_dim_pads_for_batching_mixed_kernels():
    g = to_graph(build("mlp:4-3-2:relu", seed=0), edge_dim=9)
    assert g.edge_attr.shape[1] == 9 and not g.edge_attr[:, 1:].any()
    assert_round_trip(Case(from_graph(g), (4,)))
    with pytest.raises(GraphError, match="edge_dim=4 is too small.*3x3.*>= 9"):
        to_graph(build("cnn:1-2-3:relu:k3", seed=0), edge_dim=4)


def test_graphs_share_structure_but_own_their_values():
    m = build("mlp:5-4-3:relu", seed=0)
    g1, g2 = to_graph(m), to_graph(m)
    assert g1.edge_index is g2.edge_index  # cached per architecture
    g1.edge_attr.zero_()
    assert g2.edge_attr.abs().sum() > 0
    assert m.layers[0].weight.abs().sum() > 0
    back = from_graph(g2)
    back.layers[0].weight.data.zero_()
    assert g2.edge_attr.abs().sum() > 0


# --- unsupported networks --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "net, pattern",
    [
        (nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)), r"layer 1 \(BatchNorm1d.*supported layers: Linear, Conv2d"),
        (nn.Sequential(nn.MultiheadAttention(4, 2)), r"layer 0 \(MultiheadAttention: .* is not supported; supported layers"),
        (nn.Sequential(nn.Linear(4, 3), nn.Dropout2d(), nn.Linear(3, 2)), r"layer 1 \(Dropout2d"),
        (nn.Sequential(nn.Linear(4, 3), nn.LeakyReLU(0.2), nn.Linear(3, 2)), r"layer 1 \(LeakyReLU"),
        (nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.ReLU())), r"layer 1 \(Sequential"),
        (nn.TransformerEncoderLayer(8, 2), r"unsupported module TransformerEncoderLayer.*nn.Sequential of"),
        (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2)), r"layer 2 \(Linear 5->2\) expects 5 input features but layer 0 \(Linear 4->3\) produces 3"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(3, 2, 3)), r"layer 1 \(Conv2d 3->2\) expects 3 input channels but layer 0 \(Conv2d 1->4\) produces 4"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2)), r"layer 1 \(Linear 4->2\) follows layer 0 \(Conv2d 1->4\).*insert nn.Flatten"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)), r"global average pooling of 4 channels; it must have in_features=4"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(10, 2)), r"10 input features, which is not a multiple of the 4 channels"),
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.MaxPool2d(2)), r"layer 2 \(MaxPool2d\) needs a 4-D image input"),
        (nn.Sequential(nn.Flatten(), nn.Conv2d(1, 2, 3)), r"layer 1 \(Conv2d 1->2\) needs a 4-D image input"),
        (nn.Sequential(nn.Flatten(), nn.ReLU()), r"no Linear or Conv2d layer"),
        (nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), r"layer 0 .*groups=2.*not supported"),
    ],
)
def test_unsupported_networks_are_named(net, pattern):
    with pytest.raises(GraphError, match=pattern):
        to_graph(net)


def test_non_module_input_is_refused():
    with pytest.raises(GraphError, match="needs an nn.Module.*to_batch"):
        to_graph({"layers.0.weight": torch.zeros(2, 2)})


def test_module_whose_parameters_do_not_match_its_arch():
    m = build("mlp:4-3-2:relu", seed=0)
    m.layers[0] = nn.Linear(4, 5)  # arch says 3
    with pytest.raises(GraphError, match=r"layers.0.weight.*shape \(5, 4\).*needs \(3, 4\)"):
        to_graph(m)


# --- populations -----------------------------------------------------------------------------------
def _population(arch: str, p: int) -> tuple[list[nn.Module], dict[str, torch.Tensor]]:
    models = [build(arch, seed=s) for s in range(p)]
    params, _ = stack_module_state(models)
    return models, {k: v.detach() for k, v in params.items()}


@pytest.mark.parametrize("arch", ["mlp:6-5-5-3:tanh:skip", "cnn:2-3-4-3:gelu:k3:s2", "mlp:4-3-2:relu:nobias"])
def test_to_graphs_and_to_batch_match_single_encoding(arch):
    models, params = _population(arch, 5)
    singles = [to_graph(m) for m in models]
    graphs = to_graphs(arch, params)
    batch = to_batch(models[0], params)
    reference = Batch.from_data_list(singles)
    assert batch.num_graphs == 5 and set(batch.keys()) == set(reference.keys())
    for k in reference.keys():
        a, b = getattr(batch, k), getattr(reference, k)
        assert (a == b) if k == "arch" else torch.equal(a, b), k
    assert {k: v.tolist() for k, v in batch._slice_dict.items()} == {k: v.tolist() for k, v in reference._slice_dict.items()}
    for g, s, h in zip(graphs, singles, batch.to_data_list()):
        assert isinstance(h, NeuralGraph)
        for k in s.keys():
            assert (getattr(g, k) == getattr(s, k)) if k == "arch" else torch.equal(getattr(g, k), getattr(s, k))
            assert (getattr(h, k) == getattr(s, k)) if k == "arch" else torch.equal(getattr(h, k), getattr(s, k))


def test_population_decodes_to_stacked_params_for_vectorised_verify():
    models, params = _population("mlp:6-5-5-3:relu:skip", 7)
    batch = to_batch("mlp:6-5-5-3:relu:skip", params)
    pop = from_graphs(batch)
    assert type(pop.module) is MLP
    for k, v in params.items():
        assert torch.equal(pop.params[k], v)
    x = torch.randn(9, 6)
    out = vmap(lambda p: functional_call(pop.module, p, (x,)))(pop.params)
    with torch.no_grad():
        for i, m in enumerate(models):
            assert torch.allclose(out[i], m(x), atol=1e-6)
    # a list of graphs works too, and gives the same population
    pop2 = from_graphs(to_graphs(models[0], params))
    assert all(torch.equal(pop2.params[k], v) for k, v in params.items())


def test_population_decode_feeds_verify_stacked(stub_task):
    from metanet.verify import verify, verify_stacked

    models, params = _population("cnn:1-3-4-3:relu:k3:s2", 4)
    x, y = torch.rand(20, 1, 8, 8), torch.randint(0, 3, (20,))
    task = stub_task(x, y, 3)
    pop = from_graphs(to_batch("cnn:1-3-4-3:relu:k3:s2", params))
    got = [r.accuracy for r in verify_stacked(pop.module, pop.params, task)]
    want = [r.accuracy for r in verify(models, task)]
    assert got == want


def test_population_params_must_be_stacked():
    _, params = _population("mlp:4-3-2:relu", 3)
    with pytest.raises(GraphError, match="exactly one leading population dimension"):
        to_batch("mlp:4-3-2:relu", {k: v[0] for k, v in params.items()})
    with pytest.raises(GraphError, match="missing \\['layers.1.bias'\\]"):
        to_graphs("mlp:4-3-2:relu", {k: v for k, v in params.items() if k != "layers.1.bias"})
    with pytest.raises(GraphError, match="same for every parameter"):
        to_graphs("mlp:4-3-2:relu", {**params, "layers.1.bias": params["layers.1.bias"][:2]})


def test_empty_population_encodes_like_to_graphs():
    # to_graphs gives [] for P = 0; to_batch crashed with "cannot reshape tensor of 0 elements into shape [0, -1]"
    _, params = _population("cnn:1-3-4-3:relu:k3", 2)
    empty = {k: v[:0] for k, v in params.items()}
    assert to_graphs("cnn:1-3-4-3:relu:k3", empty) == []
    batch = to_batch("cnn:1-3-4-3:relu:k3", empty)
    assert batch.num_graphs == 0 and batch.x.shape == (0, 6) and batch.edge_attr.shape == (0, 9)
    with pytest.raises(GraphError, match="no graphs"):
        from_graphs(batch)


def test_population_params_must_be_floating_point():
    # integer weights made integer graphs that from_graph then refused
    _, params = _population("mlp:4-3-2:relu", 2)
    with pytest.raises(GraphError, match="floating-point.*layers.0.weight.*torch.int64"):
        to_batch("mlp:4-3-2:relu", {k: v.long() for k, v in params.items()})
    with pytest.raises(GraphError, match="floating-point"):
        to_graphs("mlp:4-3-2:relu", {**params, "layers.1.bias": params["layers.1.bias"].int()})


def test_parameters_of_mixed_dtypes_are_refused():
    # torch.cat promoted them: the graph decoded to an all-float64 network, not the one encoded
    m = nn.Sequential(nn.Linear(4, 3).double(), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(GraphError, match=r"one dtype.*'0.weight' is torch.float64 and '2.weight' is torch.float32"):
        to_graph(m)
    _, params = _population("mlp:4-3-2:relu", 2)
    with pytest.raises(GraphError, match="one dtype"):
        to_batch("mlp:4-3-2:relu", {**params, "layers.1.bias": params["layers.1.bias"].half()})


def test_cnn_population_of_a_family_class_round_trips():
    models, params = _population("cnn:1-4-4-3:silu:k5:s1", 3)
    pop = from_graphs(to_batch(models[0], params))
    assert type(pop.module) is CNN
    for i, m in enumerate(models):
        g = to_graph(m)
        back = from_graph(g)
        x = torch.randn(2, 1, 7, 7)
        assert torch.equal(back(x), m(x))


@SETTINGS
@given(any_network)
def test_population_round_trip_any_network(case):
    m = case.module
    params = {k: torch.stack([v.detach(), v.detach() * 2]) for k, v in m.named_parameters()}
    pop = from_graphs(to_batch(m, params))
    assert all(torch.equal(pop.params[k], v) for k, v in params.items())


def test_activations_of_a_plain_sequential_are_node_features():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Tanh(), nn.Linear(3, 4), nn.Identity(), nn.SiLU(), nn.GELU(), nn.Linear(4, 2), nn.Sigmoid())
    g = to_graph(net)
    # the first activation after a layer is its node feature; the rest live in the arch spec
    assert g.node_act.tolist() == [activation_code("tanh")] * 3 + [activation_code("identity")] * 4 + [activation_code("sigmoid")] * 2
    assert_round_trip(Case(net, (3,)))


def test_to_state_dict_gives_checked_private_copies():
    from metanet.graph import to_state_dict

    m = build("cnn:1-3-2:relu:k3", seed=0)
    g = to_graph(m)
    sd = to_state_dict(g)
    assert list(sd) == list(m.state_dict())
    assert all(torch.equal(sd[k], v) and sd[k].is_contiguous() for k, v in m.state_dict().items())
    sd["layers.0.weight"].zero_()
    assert g.edge_attr.abs().sum() > 0
    fresh = build("cnn:1-3-2:relu:k3", seed=5)
    fresh.load_state_dict(to_state_dict(g))
    x = torch.randn(2, 1, 5, 5)
    assert torch.equal(fresh(x), m(x))


def test_decoded_parameters_do_not_share_memory():
    m = build("mlp:5-4-3:relu", seed=0)
    back = from_graph(to_graph(m, edge_dim=3))
    ptrs = [p.untyped_storage().data_ptr() for p in back.parameters()]
    assert len(set(ptrs)) == len(ptrs)
    assert not back.training
    from safetensors.torch import save

    save(back.state_dict())  # safetensors refuses tensors that share memory


def test_importing_the_package_is_cheap():
    import subprocess
    import sys

    code = "import sys, metanet.graph, metanet.graph.cli; print('torch_geometric' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_subclasses_of_the_families_are_refused():
    class Odd(MLP):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(GraphError, match="Odd subclasses metanet.nets.MLP.*decode to the plain family"):
        to_graph(Odd("mlp:4-3-2:relu"))


def test_sequential_with_named_layers_round_trips():
    # nn.Sequential(OrderedDict(...)) names its parameters 'conv.weight', 'fc.bias', ...: the graph must keep them
    from collections import OrderedDict

    torch.manual_seed(5)
    model = nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 3, 3)), ("act", nn.ReLU()), ("flat", nn.Flatten()), ("fc", nn.Linear(3 * 4 * 4, 5)),
    ]))
    g = to_graph(model)
    back = from_graph(g)
    assert list(back.state_dict()) == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))
    x = torch.rand(2, 1, 6, 6)
    assert torch.equal(back(x), model(x))


@pytest.mark.parametrize("net", [
    nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.2), nn.Linear(12, 10)),
    nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Dropout(0.1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                  nn.Linear(4, 10)),
])
def test_dropout_is_an_identity_in_the_graph_and_survives_the_round_trip(net):
    """A network with Dropout has the graph of the same network without it (Dropout is an identity at inference),
    and from_graph rebuilds it with its Dropout."""
    import metanet

    torch.manual_seed(0)
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight)
    plain = nn.Sequential(*[m for m in net if not isinstance(m, nn.Dropout)])
    g, ref = to_graph(net), to_graph(plain)
    assert torch.equal(g.x, ref.x) and torch.equal(g.edge_attr, ref.edge_attr) and torch.equal(g.edge_index, ref.edge_index)
    back = from_graph(g).eval()
    assert [type(m) for m in back] == [type(m) for m in net]
    x = torch.rand(3, 1, 8, 8)
    assert torch.equal(back(x), net.eval()(x))
    assert metanet.verify(net, "digits").accuracy == metanet.verify(plain, "digits").accuracy


def test_wrapped_networks_are_graph_errors_saying_what_to_pass():
    """A parametrized network was a raw KeyError deep in the layout."""
    from torch.nn.utils import parametrize

    class Double(nn.Module):
        def forward(self, w):
            return 2 * w

    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    parametrize.register_parametrization(net[0], "weight", Double())
    with pytest.raises(GraphError, match=r"parametrize.*remove_parametrizations"):
        to_graph(net)
    with torch.device("meta"):  # a meta network still encodes: the graph of its architecture
        meta = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert to_graph(meta).edge_attr.is_meta


def test_edge_dim_numpy_integer_is_accepted_float_is_named():
    m = _mlp()
    assert to_graph(m, edge_dim=np.int64(3)).edge_attr.shape == (36, 3)
    with pytest.raises(GraphError, match="must be an integer") as e:
        to_graph(m, edge_dim=2.0)
    assert "too small" not in str(e.value)


def test_sparse_parameter_is_a_graph_error():
    m = nn.Sequential(nn.Linear(3, 2))
    m[0].weight = nn.Parameter(m[0].weight.detach().to_sparse())
    with pytest.raises(GraphError, match="dense.*0.weight|0.weight.*to_dense"):
        to_graph(m)


def test_extra_parameter_would_be_lost_is_a_graph_error():
    m = nn.Sequential(nn.Linear(3, 2))
    m[0].scale = nn.Parameter(torch.ones(1))
    with pytest.raises(GraphError, match="0.scale"):
        to_graph(m)


def test_tied_weights_still_encode():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    m[2].weight = m[0].weight
    m2 = from_graph(to_graph(m))
    assert torch.equal(m2[2].weight, m[0].weight)


def test_to_graph_encodes_a_generated_network_and_a_saved_one(tmp_path):
    # "to_graph() needs an nn.Module, got Generated" while metanet.verify(g) took it
    g = fake_generated()
    want = to_graph(g.model)
    assert _same(to_graph(g), want)
    path = io.save(g.model, tmp_path / "net with space.safetensors")
    assert _same(to_graph(path), want) and _same(to_graph(str(path)), want)
    assert _same(to_graph(g, edge_dim=3), to_graph(g.model, edge_dim=3))


def test_to_graph_of_a_missing_path_or_a_graph_says_what_to_do(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        to_graph(tmp_path / "missing.safetensors")
    graph = to_graph(build(ARCH, seed=0))
    with pytest.raises(GraphError, match=r"already a graph; .*to_graph\(from_graph\(graph\), edge_dim=\.\.\.\)"):
        to_graph(graph)
    with pytest.raises(GraphError, match="needs an nn.Module, got int"):
        to_graph(3)
