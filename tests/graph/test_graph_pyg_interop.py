"""Neural graphs through more of PyG: graph indexing of batches of mixed architectures (negative indices count from
the end; out-of-range and bool indices are IndexErrors), sub-batches and re-batching, copies that own their values,
PyG utilities (networkx, subgraph), and a zoo dataset under a multi-worker ``DataLoader`` for two epochs; every
graph still decodes to a network whose outputs equal the original's bit for bit."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import stack_module_state
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader
from torch_geometric.utils import to_networkx

from metanet.errors import GraphError
from metanet.graph import NeuralGraph, from_graph, split, to_batch, to_graph
from metanet.nets import build

ARCHS = ["mlp:4-5-3:relu", "cnn:1-3-4-2:relu:k3", "mlp:4-6-6-3:tanh:skip", "mlp:4-9-3:relu", "cnn:2-2-3:gelu:k5"]


def _nets() -> list[nn.Module]:
    nets = [build(a, seed=i) for i, a in enumerate(ARCHS)]
    torch.manual_seed(0)
    nets.append(nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4)))
    return nets


def _inputs(m: nn.Module) -> torch.Tensor:
    first = next(mod for mod in m.modules() if isinstance(mod, (nn.Linear, nn.Conv2d)))
    shape = (first.in_features,) if isinstance(first, nn.Linear) else (first.in_channels, 7, 7)
    return torch.randn(3, *shape, generator=torch.Generator().manual_seed(1))


def _same_net(g: NeuralGraph, m: nn.Module) -> bool:
    """``g`` decodes to ``m``: the same parameters and the same outputs, bit for bit."""
    got = from_graph(g)
    a, b = got.state_dict(), m.state_dict()
    if list(a) != list(b) or not all(torch.equal(a[k], b[k]) for k in b):
        return False
    x = _inputs(m)
    return torch.equal(got(x), m(x))


def _which(g: NeuralGraph, nets: list[nn.Module]) -> list[int]:
    return [k for k, m in enumerate(nets) if _same_net(g, m)]


def _batches() -> dict[str, tuple[Batch, list[nn.Module]]]:
    nets = _nets()
    graphs = [to_graph(m, edge_dim=25) for m in nets]
    pop = [build(ARCHS[0], seed=s) for s in range(4)]
    params, _ = stack_module_state(pop)
    return {
        "mixed": (Batch.from_data_list(graphs), nets),
        "loader": (next(iter(DataLoader(graphs, batch_size=len(graphs)))), nets),
        "to_batch": (to_batch(pop[0], params), pop),
        "unpickled": (pickle.loads(pickle.dumps(to_batch(pop[0], params))), pop),
    }


@pytest.mark.parametrize("kind", ["mixed", "loader", "to_batch", "unpickled"])
def test_negative_graph_indices_count_from_the_end(kind):
    # PyG read batch[-k] against its offset tables as is: batch[-1] was a bare narrow() RuntimeError and batch[-2]
    # mixed the nodes of one graph with the arch and edge offset of another
    batch, nets = _batches()[kind]
    n = len(nets)
    for i in range(-n, n):
        assert _which(batch[i], nets) == [i % n], i
        assert _which(batch.get_example(i), nets) == [i % n], i
    assert _which(batch[torch.tensor(-1)], nets) == [n - 1]  # a 0-d tensor, as PyG's __getitem__ passes it on
    assert _which(batch[np.int64(-2)], nets) == [n - 2]
    for sel in ([-1, 0, -n], torch.tensor([-2, 1]), np.array([-1])):
        want = [int(i) % n for i in sel]
        assert [_which(g, nets)[0] for g in batch[sel]] == want
        assert [_which(g, nets)[0] for g in batch.index_select(sel)] == want


@pytest.mark.parametrize("idx", [4, -5, 100])
def test_out_of_range_graph_indices_are_named(idx):
    batch, _ = _batches()["to_batch"]  # 4 graphs; batch[4] used to speak of "index 5"
    with pytest.raises(IndexError, match=rf"graph index {idx} is out of range for a batch of 4 graphs \(valid: -4..3\)"):
        batch[idx]
    with pytest.raises(IndexError, match="out of range"):
        batch[[0, idx]]


@pytest.mark.parametrize("idx", [True, torch.tensor(True)])
def test_a_lone_bool_is_not_a_graph_index(idx):
    batch, _ = _batches()["to_batch"]  # True used to be read as graph 1
    with pytest.raises(IndexError, match="is not an integer"):
        batch[idx]
    with pytest.raises(IndexError, match="is not an integer"):
        batch.get_example(np.bool_(True))


def test_every_selection_of_a_mixed_batch_decodes_to_its_networks():
    batch, nets = _batches()["mixed"]
    assert type(batch).__name__ == "NeuralGraphBatch" and isinstance(batch, Batch) and isinstance(batch, NeuralGraph)
    everything = list(range(len(nets)))
    mask = torch.tensor([True, False, True, False, False, True])
    for sel, want in ((slice(1, 3), [1, 2]), (slice(None, None, -2), everything[::-2]), ([0, 2, 5], [0, 2, 5]),
                      (torch.tensor([5, 1]), [5, 1]), (mask, [0, 2, 5]), (np.array([3, 0]), [3, 0])):
        got = batch[sel]
        assert [type(g) for g in got] == [NeuralGraph] * len(want)
        assert [_which(g, nets) for g in got] == [[i] for i in want], sel
        again = Batch.from_data_list(got)  # a sub-batch batches again, with the offsets of its own graphs
        assert [_which(g, nets) for g in again.to_data_list()] == [[i] for i in want], sel
    assert [_which(g, nets) for g in batch.to_data_list()] == [[i] for i in everything]
    assert [_which(g, nets) for g in split(batch)] == [[i] for i in everything]
    assert [_which(g, nets) for g in copy.deepcopy(batch).to_data_list()] == [[i] for i in everything]


def test_a_mutated_copy_leaves_the_original_alone():
    m = build(ARCHS[1], seed=0)
    g = to_graph(m)
    for h in (g.clone(), copy.deepcopy(g)):
        h.x[:, 0] += 1.0
        h.edge_attr.mul_(2.0)
        h.edge_index[0, 0] = 7
        h.node_kind[0] = 2
        assert _same_net(g, m)


def test_dtype_moves_of_the_values_decode_in_that_dtype():
    m = build(ARCHS[2], seed=0)
    g = to_graph(m)
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        # what Data offers (Data.to moves devices only); apply works in place, hence the clone
        h = g.clone().apply(lambda t: t.to(dtype) if t.is_floating_point() else t)
        got = from_graph(h)
        assert all(p.dtype == dtype for p in got.parameters())
        assert all(torch.equal(a, b.to(dtype)) for a, b in zip(got.state_dict().values(), m.state_dict().values()))


def test_pyg_utilities_see_the_network_as_its_graph():
    m = build(ARCHS[1], seed=0)
    g = to_graph(m)
    assert g.validate() and g.is_directed() and not g.has_self_loops() and not g.has_isolated_nodes()
    assert (g.num_nodes, g.num_edges, g.num_node_features) == (10, 23, 6)
    nxg = to_networkx(g, edge_attrs=["edge_attr"])
    assert nxg.number_of_nodes() == g.num_nodes and nxg.number_of_edges() == g.num_edges
    assert nxg.edges[0, 1]["edge_attr"] == g.edge_attr[0].tolist()
    part = g.subgraph(g.node_layer <= 1)  # the input layer and the first conv: a graph, but no longer the network
    assert type(part) is NeuralGraph and part.num_nodes == 4 and part.num_edges == 3
    with pytest.raises(GraphError, match="has 4 nodes but its architecture"):
        from_graph(part)


def test_a_zoo_dataset_under_worker_processes_for_two_epochs(tmp_path):
    from metanet.zoo import Zoo
    from metanet.zoo import build as build_zoo

    recipe = {"name": "pyg", "seed": 3, "count": 4, "population": 2, "tasks": ["digits"], "checkpoints": [0, 1],
              "arch": {"family": ["mlp", "cnn"], "depth": 1, "width": 4, "activation": "relu"},
              "train": {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 64, "epochs": 1, "train_examples": 200},
              "eval": {"train_examples": 100}}
    build_zoo(recipe, tmp_path / "zoo", progress=False)
    zoo = Zoo(tmp_path / "zoo")
    ds = zoo.dataset(split="all", target=["test_acc", "lr"])
    loader = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2, persistent_workers=True,
                        follow_batch=["edge_attr"], exclude_keys=["test_acc"])
    for _ in range(2):
        seen = []
        for batch in loader:
            assert "test_acc" not in batch.keys() and batch.y.shape == (batch.num_graphs, 2)
            assert torch.equal(batch.edge_attr_batch, batch.batch[batch.edge_index[0]])
            for i, zoo_id in enumerate(batch.zoo_id.tolist()):
                assert _same_net(batch[-batch.num_graphs + i], zoo.load(zoo_id))
            seen += batch.zoo_id.tolist()
        assert sorted(seen) == sorted(ds.ids)
