"""PyG transforms applied by a user to neural graphs: the ones that only add attributes or remove nothing a network
has (self loops, isolated nodes) leave a graph that decodes bit for bit; the ones that add or drop edges or nodes
(``T.ToUndirected()``, self loops, a virtual node, the line graph, a ``Compose`` of them) give graphs that
``from_graph``, ``from_graphs``, ``split`` and ``batch_params`` refuse with a ``GraphError`` rather than decode into
another network; also when the transform ran on a whole ``Batch`` (whose per-graph slices it leaves stale: a graph
taken from it is refused, or is exactly the original one)."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.transforms as T
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from metanet.errors import GraphError
from metanet.graph import batch_params, from_graph, from_graphs, split, to_graph
from metanet.nets import build

ARCHS = ["mlp:4-5-3:relu", "cnn:1-3-4-2:relu:k3", "mlp:4-6-6-3:tanh:skip"]

CHANGING = {
    "ToUndirected": T.ToUndirected,
    "ToUndirected-mean": lambda: T.ToUndirected(reduce="mean"),
    "AddSelfLoops": T.AddSelfLoops,
    "AddRemainingSelfLoops": T.AddRemainingSelfLoops,
    "Compose": lambda: T.Compose([T.ToUndirected(), T.AddSelfLoops()]),
    "VirtualNode": T.VirtualNode,
    "LineGraph": T.LineGraph,
}

KEEPING = {
    "RemoveSelfLoops": T.RemoveSelfLoops,
    "RemoveIsolatedNodes": T.RemoveIsolatedNodes,
    "AddRandomWalkPE": lambda: T.AddRandomWalkPE(walk_length=2, attr_name="pe"),
    "ToDevice": lambda: T.ToDevice("cpu"),
}


def _same_net(g, m) -> bool:
    got, want = from_graph(g).state_dict(), m.state_dict()
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", sorted(KEEPING))
def test_transforms_that_keep_the_network_decode_bit_exactly(arch, name):
    m = build(arch, seed=0)
    assert _same_net(KEEPING[name]()(to_graph(m).clone()), m)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", sorted(CHANGING))
def test_transforms_that_change_the_graph_are_refused_by_from_graph(arch, name):
    g = CHANGING[name]()(to_graph(build(arch, seed=0)).clone())
    with pytest.raises(GraphError):
        from_graph(g)


@pytest.mark.parametrize("name", ["ToUndirected", "AddSelfLoops", "Compose"])
def test_batches_of_transformed_graphs_are_refused_everywhere(name):
    nets = [build(ARCHS[0], seed=s) for s in range(3)]
    graphs = [to_graph(m) for m in nets]
    before = [CHANGING[name]()(g.clone()) for g in graphs]  # a DataLoader over transformed graphs
    after = CHANGING[name]()(Batch.from_data_list(graphs))  # the batch transformed: its slices are stale
    for batch in (next(iter(DataLoader(before, batch_size=3))), after):
        with pytest.raises(GraphError):
            from_graphs(batch)
        with pytest.raises(GraphError):
            batch_params(batch)
        for i, g in [(0, batch[0]), (2, batch[-1]), *enumerate(split(batch))]:
            try:
                got = _same_net(g, nets[i])
            except GraphError:
                continue
            # T.AddSelfLoops on a whole Batch appends the loops after every graph's edges, so the stale slices give
            # back each graph as it was: decoding it is right; another network never is
            assert got and batch is after and name == "AddSelfLoops", (name, i)
    # the untransformed graphs of the same batch still decode to their networks
    assert all(_same_net(g, m) for g, m in zip(Batch.from_data_list(graphs).to_data_list(), nets))
