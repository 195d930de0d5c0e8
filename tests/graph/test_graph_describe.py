"""`describe`, `plot` and ``metanet graph FILE``: counts and statistics per layer, and a picture."""

from __future__ import annotations

import json

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

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


@pytest.mark.parametrize(
    "net",
    [
        build("mlp:784-64-10:relu", seed=0),
        build("mlp:6-4-4-3:tanh:skip", seed=0),
        build("cnn:1-4-4-3:relu:k3:nobias", seed=0),
    ],
)
def test_plot_returns_a_matplotlib_figure(net, tmp_path):
    fig = plot(to_graph(net), max_edges=2000)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_xticks()) == len(to_graph(net).layout.sizes)
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000
    assert matplotlib.get_backend().lower() != "tkagg"  # no GUI backend was switched on


def test_plot_thins_out_large_layers_and_says_so():
    fig = plot(build("mlp:784-64-10:relu", seed=0), max_edges=500)
    assert "showing the" in fig.axes[0].get_title()


def test_cli_graph_prints_description_and_plots(tmp_path, capsys):
    path = save(build("mlp:8-5-3:relu", seed=0), tmp_path / "net.safetensors")
    assert main(["graph", str(path)]) == 0
    out = capsys.readouterr().out
    assert "mlp:8-5-3:relu: 16 nodes, 55 edges" in out
    png = tmp_path / "plots" / "net.png"
    assert main(["graph", str(path), "--json", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"] == 16 and [r["neurons"] for r in data["layers"]] == [8, 5, 3]
    assert png.stat().st_size > 1000


def test_cli_graph_on_a_hand_built_network(tmp_path, capsys):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 4, 3))
    path = save(net, tmp_path / "plain.safetensors")
    assert main(["graph", str(path)]) == 0
    assert "sequential:1-2-3" in capsys.readouterr().out


def test_cli_graph_errors_are_one_line(tmp_path, capsys):
    assert main(["graph", str(tmp_path / "missing.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metanet: error: ") and len(err.strip().splitlines()) == 1
