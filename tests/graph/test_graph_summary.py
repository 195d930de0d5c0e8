"""`describe`: node / edge counts and weight statistics per layer, checked against the module, its drawing and
``metanet graph --json``; a generated network, a saved path and a meta-device graph are described."""

from __future__ import annotations

import json

import pytest
import torch
from generated_helpers import fake_generated
from graph_helpers import _meta_mlp
from torch import nn

from metanet import io
from metanet.cli import main
from metanet.errors import GraphError
from metanet.graph import describe, plot, to_graph
from metanet.io import save
from metanet.nets import build


def test_describe_counts_and_statistics_per_layer():
    m = build("mlp:6-4-4-3:tanh:skip", seed=0)
    d = describe(to_graph(m))
    assert (d.nodes, d.edges, d.edge_dim, d.parameters) == (17, 24 + 16 + 4 + 12, 1, sum(p.numel() for p in m.parameters()))
    assert [s.neurons for s in d.layers] == [6, 4, 4, 3]
    assert [s.kind for s in d.layers] == ["input", "hidden", "hidden", "output"]
    assert [s.edges for s in d.layers] == [0, 24, 16, 12] and [s.residual_edges for s in d.layers] == [0, 0, 4, 0]
    assert [s.activation for s in d.layers] == ["identity", "tanh", "tanh", "identity"]
    w = m.layers[1].weight.detach().double()
    st = d.layers[2].weights
    assert st["count"] == 16 and st["mean"] == pytest.approx(w.mean().item()) and st["max"] == w.max().item()
    assert d.layers[0].weights is None and d.layers[3].bias["count"] == 3
    json.dumps(d.to_dict())  # plain data
    text = str(d)
    assert text.splitlines()[0].startswith("mlp:6-4-4-3:tanh:skip: 17 nodes, 56 edges")
    assert len(text.splitlines()) == 2 + 4


def test_describe_accepts_a_module_and_shows_kernels():
    d = describe(build("cnn:1-2-3:relu:k5:s1:nobias", seed=0))
    assert d.layers[1].kernel == [5, 5] and d.layers[1].bias is None and d.edge_dim == 25


def test_describe_refuses_a_batch():
    from torch_geometric.data import Batch

    g = to_graph(build("mlp:4-3-2:relu", seed=0))
    with pytest.raises(GraphError, match="split\\(batch\\)"):
        describe(Batch.from_data_list([g, g]))


def test_describe_accepts_a_batch_of_one_graph_like_from_graph():
    from torch_geometric.data import Batch

    g = to_graph(build("mlp:4-3-2:relu", seed=0))
    assert str(describe(Batch.from_data_list([g]))) == str(describe(g))
    with pytest.raises(GraphError, match=r"describe\(\) got a batch of 2 graphs"):
        describe(Batch.from_data_list([g, g]))


def test_describe_table_shows_tiny_and_huge_weights_aligned():
    """Weights of 1e-6 must not print as 0.0000 (an all-zero layer, it would seem), nor 1e7 break the columns."""
    import torch

    m = build("mlp:4-3-2:relu", seed=0)
    with torch.no_grad():
        m.layers[0].weight.mul_(1e7)
        m.layers[1].weight.mul_(1e-6)
    d = describe(m)
    lines = str(d).splitlines()
    assert len({len(line) for line in lines[1:]}) == 1  # header and rows aligned
    for row, layer in ((lines[3], d.layers[1]), (lines[4], d.layers[2])):
        shown = [float(v) for v in row.split()[8:12]]  # w.mean w.std w.min w.max
        want = [layer.weights[k] for k in ("mean", "std", "min", "max")]
        assert shown == pytest.approx(want, rel=1e-2)
    assert lines[2].split()[8:] == ["-"] * 6 and "0.2672" in str(describe(build("mlp:4-3-2:relu", seed=0)))


def test_describe_meta_graph_gives_counts_plot_refuses():
    g = to_graph(_meta_mlp())
    d = describe(g)
    assert d.layers[1].weights == {"count": 24} and d.layers[1].bias == {"count": 4}
    assert "sequential:6-4-3" in str(d)
    with pytest.raises(GraphError, match="meta"):
        plot(g)


@pytest.mark.parametrize("make", [
    lambda: build("mlp:8-5-5-3:relu:skip", seed=0),
    lambda: build("cnn:3-4-6-5:gelu:k5:s1:nobias", seed=1),
    lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1),
                          nn.Linear(2 * 4, 3), nn.Tanh(), nn.Linear(3, 2, bias=False)),
])
def test_summary_and_drawing_counts_are_the_modules(make, tmp_path, capsys):
    torch.manual_seed(0)
    m = make()
    g = to_graph(m)
    d = describe(m)
    params = dict(m.named_parameters())
    assert (d.nodes, d.edges, d.parameters) == (g.num_nodes, g.num_edges, sum(p.numel() for p in m.parameters()))
    assert sum(s.neurons for s in d.layers) == g.num_nodes
    assert sum(s.edges + s.residual_edges for s in d.layers) == g.num_edges
    for s in d.layers[1:]:
        w = params[f"{s.module}.weight"].detach().double()
        assert s.weights["count"] == w.numel() and s.weights["mean"] == pytest.approx(w.mean().item(), abs=1e-12)
        assert (s.bias is None) == (f"{s.module}.bias" not in params)
    assert f"{g.num_nodes} neurons, {g.num_edges} edges" in plot(g).axes[0].get_title()
    path = save(m, tmp_path / "net.safetensors")
    assert main(["graph", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["nodes"], out["edges"], out["parameters"]) == (d.nodes, d.edges, d.parameters)


def test_describe_and_plot_take_what_to_graph_takes(tmp_path):
    g = fake_generated()
    path = io.save(g.model, tmp_path / "n.safetensors")
    want = describe(g.model)
    assert describe(g) == want and describe(path) == want
    for obj in (g, path):
        fig = plot(obj)
        assert fig.axes
