"""Round 27c: the graph functions take a network as metanet.verify / metanet.read do: a module, metanet.generate's
result or a saved network's path; a graph or an architecture where a network is needed is a clear GraphError."""

from __future__ import annotations

import pytest
import torch

from generated_helpers import ARCH, fake_generated

from metanet import io
from metanet.errors import FileFormatError, GraphError
from metanet.graph import describe, from_graph, layout, permute_hidden, plot, to_graph
from metanet.nets import build


def _same(a, b) -> bool:
    return a.arch == b.arch and torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr) and torch.equal(
        a.edge_index, b.edge_index)


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


def test_describe_and_plot_take_what_to_graph_takes(tmp_path):
    g = fake_generated()
    path = io.save(g.model, tmp_path / "n.safetensors")
    want = describe(g.model)
    assert describe(g) == want and describe(path) == want
    for obj in (g, path):
        fig = plot(obj)
        assert fig.axes


def test_layout_of_a_generated_network_and_a_path_hint(tmp_path):
    g = fake_generated()
    assert layout(g) is layout(g.model) is layout(to_graph(g.model))
    path = io.save(g.model, tmp_path / "n.safetensors")
    with pytest.raises(GraphError, match=r"file path .*reads architectures, not files: give "
                                         r"layout\(metanet.load\(path\)\)"):
        layout(str(path))
    with pytest.raises(GraphError, match="invalid architecture 'mlp:4-x-2:relu'"):
        layout("mlp:4-x-2:relu")  # an architecture string is still read as one


def test_permute_hidden_takes_a_generated_network_and_a_path(tmp_path):
    g = fake_generated()
    perm = [2, 0, 1]
    want = permute_hidden(g.model, 1, perm)
    path = io.save(g.model, tmp_path / "n.safetensors")
    for obj in (g, path):
        got = permute_hidden(obj, 1, perm)
        assert all(torch.equal(got.state_dict()[k], v) for k, v in want.state_dict().items())
    assert not torch.equal(want.state_dict()["layers.1.weight"], g.model.state_dict()["layers.1.weight"])


def test_permute_hidden_of_a_graph_or_an_architecture_is_a_graph_error():
    graph = to_graph(build(ARCH, seed=0))
    with pytest.raises(GraphError, match=r"permutes a network's weights.*got NeuralGraph; for a graph use "
                                         r"to_graph\(permute_hidden\(from_graph\(graph\)"):
        permute_hidden(graph, 1, [0, 1, 2])
    with pytest.raises(GraphError, match="permutes a network's weights.*got dict$"):
        permute_hidden(build(ARCH).arch.to_dict(), 1, [0, 1, 2])
    # the graph route the message gives works
    assert _same(to_graph(permute_hidden(from_graph(graph), 1, [0, 1, 2])), graph)
