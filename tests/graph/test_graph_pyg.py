"""`NeuralGraph` under the PyG operations users apply to any ``Data``: copies, device moves, ``validate``, ``Batch``
indexing, ``InMemoryDataset`` collation and save / load (a safe weights-only load), per-graph targets, odd shapes
and dtypes; every result still decodes to the same network. MLP and CNN graphs share a ``DataLoader`` batch (one
``edge_dim``), and a graph saved as its ``to_dict()`` loads weights-only, as the ``NeuralGraph`` docstring says."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest
import torch
from graph_helpers import CNN, MLP
from torch import nn
from torch.func import stack_module_state
from torch_geometric.data import Batch, InMemoryDataset
from torch_geometric.loader import DataLoader

from metanet.graph import NeuralGraph, batch_params, from_graph, to_batch, to_graph, to_graphs
from metanet.nets import build

ARCHS = ["mlp:4-5-3:relu", "cnn:1-3-4-2:relu:k3", "mlp:4-6-6-3:tanh", "cnn:2-2-3:gelu:k3"]


def _same_net(g, module) -> bool:
    got, want = from_graph(g).state_dict(), module.state_dict()
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def _nets():
    return [build(a, seed=i) for i, a in enumerate(ARCHS)]


def test_copies_and_moves_decode_to_the_same_network():
    for m in _nets():
        g = to_graph(m)
        for h in (copy.copy(g), copy.deepcopy(g), g.clone(), g.cpu(), g.to("cpu"), g.contiguous(),
                  pickle.loads(pickle.dumps(g))):
            assert type(h) is NeuralGraph and h.arch == g.arch and h.num_nodes == g.num_nodes
            assert _same_net(h, m)
        h = g.clone()
        h.x = h.x + 1  # a clone owns its values
        assert not torch.equal(h.x, g.x)


def test_validate_accepts_graphs_and_batches():
    graphs = [to_graph(m, edge_dim=9) for m in _nets()]
    assert all(g.validate() for g in graphs)
    assert Batch.from_data_list(graphs).validate()
    m = build(ARCHS[0], seed=0)
    params, _ = stack_module_state([build(ARCHS[0], seed=s) for s in range(3)])
    assert to_batch(m, params).validate()


def test_only_edge_index_is_incremented_when_batching():
    g = to_graph(build(ARCHS[1], seed=0))
    for key in g.keys():
        want_inc = g.num_nodes if key == "edge_index" else 0
        assert g.__inc__(key, g[key]) == want_inc, key
        assert g.__cat_dim__(key, g[key]) == (-1 if key == "edge_index" else 0), key


def test_targets_stack_per_graph_and_come_back():
    nets = _nets()
    graphs = [to_graph(m, edge_dim=9) for m in nets]
    for i, g in enumerate(graphs):
        g.y = torch.tensor([float(i)])
        g.y_multi = torch.tensor([[float(i), -float(i)]])
        g.label = torch.tensor([i])
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    assert batch.y.shape == (4,) and batch.y_multi.shape == (4, 2) and batch.label.dtype == torch.long
    assert batch.num_nodes == sum(g.num_nodes for g in graphs)
    for i, (g, m) in enumerate(zip(batch.to_data_list(), nets)):
        assert g.y.shape == (1,) and g.y_multi.shape == (1, 2) and int(g.label) == i
        assert g.num_nodes == graphs[i].num_nodes and torch.equal(g.edge_index, graphs[i].edge_index)
        assert _same_net(g, m)


@pytest.mark.parametrize("arch", ["mlp:4-5-3:relu", "cnn:1-3-4-2:relu:k3"])
def test_to_batch_indexes_like_a_collated_batch(arch):
    nets = [build(arch, seed=s) for s in range(4)]
    params, _ = stack_module_state(nets)
    fast, ref = to_batch(nets[0], params), Batch.from_data_list(to_graphs(nets[0], params))
    assert type(fast) is type(ref) and fast.num_graphs == ref.num_graphs and fast.num_nodes == ref.num_nodes
    for i in range(4):
        assert _same_net(fast[i], nets[i]) and fast[i].num_nodes == ref[i].num_nodes
    for sel, want in (([0, 2], [0, 2]), (slice(1, None), [1, 2, 3]), (torch.tensor([3, 1]), [3, 1])):
        got = fast[sel]
        assert [g.num_nodes for g in got] == [ref[i].num_nodes for i in want]
        assert all(_same_net(g, nets[i]) for g, i in zip(got, want))
    assert all(_same_net(g, m) for g, m in zip(copy.deepcopy(fast).to_data_list(), nets))


def test_in_memory_dataset_collation_round_trips():
    nets = _nets()
    graphs = [to_graph(m, edge_dim=9) for m in nets]

    class Mem(InMemoryDataset):
        def __init__(self, data_list):
            super().__init__(None)
            self.data, self.slices = self.collate(data_list)

    ds = Mem(graphs)
    assert len(ds) == len(nets)
    for i, m in enumerate(nets):
        g = ds[i]
        assert type(g) is NeuralGraph and g.num_nodes == graphs[i].num_nodes and g.arch == graphs[i].arch
        assert _same_net(g, m)


class _Saved(InMemoryDataset):
    def __init__(self, path: str) -> None:
        super().__init__(None)
        self.load(path, data_cls=NeuralGraph)


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)


def test_in_memory_dataset_save_load_is_a_safe_weights_only_load(tmp_path):
    # PyG's InMemoryDataset.load reads with torch.load(weights_only=True) and falls back to a full (unsafe) unpickle
    # with a warning for classes nobody allowlisted; NeuralGraph must load like PyG's own Data does
    nets = [build("mlp:3-2-2-1:tanh:skip", seed=i).double() for i in range(3)]
    path = str(tmp_path / "neural graphs.pt")
    InMemoryDataset.save([to_graph(m) for m in nets], path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fallback's "Weights only load failed" warning would fail the test
        ds = _Saved(path)
    assert len(ds) == 3
    for i, m in enumerate(nets):
        assert type(ds[i]) is NeuralGraph and _same(from_graph(ds[i]), m)


ODD = {
    "width-1": lambda: nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1)),
    "no-bias": lambda: nn.Sequential(nn.Linear(3, 2, bias=False), nn.Tanh(), nn.Linear(2, 1, bias=False)),
    "conv-stride-pad": lambda: nn.Sequential(nn.Conv2d(2, 4, (3, 5), stride=(2, 1), padding=(1, 2)), nn.GELU(),
                                             nn.Conv2d(4, 3, 1, bias=False), nn.Flatten(), nn.Linear(3 * 16, 2)),
    "skip-all-widths-1": lambda: build("mlp:1-1-1-1:silu:skip:nobias", seed=1),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("make", list(ODD.values()), ids=list(ODD))
def test_odd_shapes_and_dtypes_round_trip_through_batches(make, dtype):
    m = make().to(dtype)
    g = to_graph(m)
    assert g.x.dtype == g.edge_attr.dtype == dtype
    assert _same(from_graph(g), m)
    b = Batch.from_data_list([g, to_graph(m)])
    assert all(_same(from_graph(h), m) for h in (*b.to_data_list(), b[1], b[0:1][0]))


def test_mlp_and_cnn_graphs_share_a_dataloader_batch_with_one_edge_dim():
    nets = [build(MLP, seed=0), build(CNN, seed=1), build(MLP, seed=2)]
    graphs = [to_graph(n, edge_dim=9) for n in nets]  # the CNN's own width; the MLPs' single column zero-padded
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.num_graphs == 3 and batch.edge_attr.shape == (sum(g.num_edges for g in graphs), 9)
    for net, g in zip(nets, batch.to_data_list()):
        assert type(g) is NeuralGraph and _same(from_graph(g), net)
    groups = batch_params(batch)
    assert [p.graphs.tolist() for p in groups] == [[0, 2], [1]]
    assert torch.equal(groups[1].params["layers.0.weight"][0], nets[1].state_dict()["layers.0.weight"])


def test_a_graph_saved_as_its_dict_loads_weights_only():
    # torch.save(graph) pickles PyG internals that weights_only=True refuses; the dict of its tensors does not
    nets = [build(CNN, seed=0).double(), build("mlp:3-2-2-1:tanh:skip", seed=1)]
    buf = io.BytesIO()
    torch.save([to_graph(n).to_dict() for n in nets], buf)
    buf.seek(0)
    loaded = [NeuralGraph.from_dict(d) for d in torch.load(buf, weights_only=True)]
    for net, g in zip(nets, loaded):
        assert type(g) is NeuralGraph and isinstance(g.arch, str) and _same(from_graph(g), net)
