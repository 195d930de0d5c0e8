"""Fuzz: random and mutated neural graphs given to ``from_graph`` / ``from_graphs`` / ``to_state_dict``, random
architectures given to ``layout``, random parameters given to ``to_graphs``. A malformed graph is a GraphError
(a MetanetError), never an IndexError, a RuntimeError from torch or a silently different network."""

from __future__ import annotations

import math

import torch
from fuzz_helpers import fuzz_settings, only_metanet_errors
from hypothesis import example, given
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

from metanet.errors import FileFormatError, GraphError, MetanetError
from metanet.graph import from_graph, from_graphs, layout, to_batch, to_graph, to_graphs, to_state_dict
from metanet.nets import build

ARCHS = ["mlp:6-4-3:relu", "mlp:5-3-3-2:tanh:skip", "mlp:4-3-2:gelu:nobias", "cnn:2-3-4:relu:k3:s2"]
KEYS = ["x", "edge_index", "edge_attr", "edge_kind", "node_kind", "node_layer", "node_act", "node_pos", "arch"]

dtypes = st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.bool,
                          torch.uint8])
shapes = st.lists(st.integers(0, 40), min_size=0, max_size=3)
#: a corrupt arch naming a network of 10^10 weights: must be refused from the graph's sizes, not built
HUGE = "mlp:100000-100000-10:relu"
weird_values = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, -1.0, 1e38, 2.0, 7.0, -5.0, 10**6])


@st.composite
def random_tensors(draw) -> torch.Tensor:
    shape = draw(shapes)
    dtype = draw(dtypes)
    n = math.prod(shape)
    vals = draw(st.lists(st.integers(-3, 50) | weird_values, min_size=n, max_size=n)) if n <= 200 else None
    if vals is None:
        return torch.zeros(shape, dtype=dtype)
    t = torch.tensor(vals, dtype=torch.float64).reshape(shape)
    if not dtype.is_floating_point:
        t = t.nan_to_num(0, 0, 0).clamp(-(2**31), 2**31 - 1)
    return t.to(dtype)


arch_values = (
    st.sampled_from(ARCHS + [HUGE, "{}", "[1]", "{",
                             '{"family": "sequential", "layers": [{"type": "linear", "in": 3, "out": 2, "bias": true}]}',
                             "rnn:3-3", ""])
    | st.text(max_size=30)
    | st.none()
    | st.integers()
    | st.lists(st.sampled_from(ARCHS), max_size=2)
)


@st.composite
def mutated_graph(draw) -> Data:
    arch = draw(st.sampled_from(ARCHS))
    g = to_graph(build(arch, seed=draw(st.integers(0, 3))))
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from(KEYS))
        how = draw(st.sampled_from(["random", "delete", "poke", "permute", "transpose", "retype", "slice"]))
        cur = g._store._mapping.get(key)
        if key == "arch":
            g.arch = draw(arch_values)
            continue
        if how == "delete" or cur is None:
            if key in g._store._mapping:
                del g[key]
            continue
        if how == "random":
            g[key] = draw(random_tensors())
        elif how == "poke" and cur.numel():
            t = cur.contiguous().clone().view(-1)
            i = draw(st.integers(0, t.numel() - 1))
            v = draw(st.integers(-3, 200) | weird_values)
            t[i] = v if t.is_floating_point() else int(max(-1000, min(1000, v))) if not math.isnan(v) else 0
            g[key] = t.view(cur.shape)
        elif how == "permute" and cur.dim() >= 1 and cur.shape[-1] > 1:
            perm = torch.tensor(draw(st.permutations(range(cur.shape[-1]))))
            g[key] = cur[..., perm]
        elif how == "transpose" and cur.dim() == 2:
            g[key] = cur.t()
        elif how == "retype":
            g[key] = cur.to(draw(dtypes))
        elif how == "slice" and cur.dim() >= 1 and cur.shape[0] > 1:
            g[key] = cur[: draw(st.integers(0, cur.shape[0] - 1))]
    return g


def _decode_all(g) -> None:
    for fn in (from_graph, to_state_dict, lambda g: from_graphs([g, g])):
        r = only_metanet_errors(lambda: fn(g))
        if isinstance(r, MetanetError):
            assert isinstance(r, GraphError), repr(r)


@fuzz_settings(250)
@given(g=mutated_graph())
def test_mutated_graph(g):
    _decode_all(g)


@fuzz_settings(60)
@given(attrs=st.dictionaries(st.sampled_from(KEYS), random_tensors() | st.none() | st.integers(), max_size=6),
       arch=arch_values)
@example(attrs={"x": torch.zeros(3, 6), "edge_index": torch.zeros(2, 5, dtype=torch.long),
                "edge_attr": torch.zeros(5, 1)}, arch="mlp:100000-100000-10:relu")  # a huge arch: no OOM
@example(attrs={"x": torch.zeros(200_010, 6), "edge_index": torch.zeros(2, 5, dtype=torch.long),
                "edge_attr": torch.zeros(5, 1)}, arch="mlp:100000-100000-10:relu")
def test_random_graph(attrs, arch):
    g = Data(**{k: v for k, v in attrs.items() if v is not None})
    g.arch = arch
    _decode_all(g)


@fuzz_settings(40)
@given(gs=st.lists(mutated_graph() | st.sampled_from(ARCHS).map(lambda a: to_graph(build(a))), min_size=1, max_size=3))
def test_mutated_batch(gs):
    try:
        batch = Batch.from_data_list(gs)
    except Exception:  # PyG itself refuses to batch some of these: nothing of metanet's to test
        return
    r = only_metanet_errors(lambda: from_graphs(batch))
    if isinstance(r, MetanetError):
        assert isinstance(r, GraphError), repr(r)
    if batch.num_graphs == 1:
        only_metanet_errors(lambda: from_graph(batch))


@fuzz_settings(60)
@given(arch=arch_values | st.dictionaries(st.sampled_from(["family", "widths", "layers", "activation"]),
                                          st.text(max_size=5) | st.integers() | st.lists(st.integers(-2, 9), max_size=4)),
       edge_dim=st.none() | st.integers(-2, 12) | st.booleans())
def test_layout_and_to_graphs(arch, edge_dim):
    if arch == HUGE:
        return  # a valid architecture, just too large to build here
    lay = only_metanet_errors(lambda: layout(arch))
    if isinstance(lay, MetanetError):
        assert isinstance(lay, GraphError), repr(lay)
        return
    module = lay._build({k: torch.zeros(s.shape) for k, s in lay.slots.items()})
    params = {k: v.unsqueeze(0) for k, v in module.state_dict().items()}
    for fn in (to_graphs, to_batch):
        r = only_metanet_errors(lambda: fn(arch, params, edge_dim=edge_dim))
        if isinstance(r, MetanetError):
            assert isinstance(r, GraphError), repr(r)


@fuzz_settings(60)
@given(arch=st.sampled_from(ARCHS),
       params=st.dictionaries(st.sampled_from(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                               "layers.2.weight", "junk"]), random_tensors(), max_size=6))
def test_to_graphs_random_params(arch, params):
    r = only_metanet_errors(lambda: to_graphs(arch, params))
    if isinstance(r, MetanetError):
        assert isinstance(r, GraphError), repr(r)


@fuzz_settings(30)
@given(obj=st.none() | st.integers() | st.text(max_size=5) | st.sampled_from([torch.nn.LSTM(2, 2), torch.nn.Linear(3, 2),
                                                                             torch.nn.Sequential(torch.nn.BatchNorm1d(3))]))
def test_to_graph_non_networks(obj):
    r = only_metanet_errors(lambda: to_graph(obj))
    # text is read as the path of a saved network (as verify and read take one): no such file
    assert isinstance(r, FileFormatError if isinstance(obj, str) else GraphError), repr(r)
    if obj == "":
        assert "empty path" in str(r)
