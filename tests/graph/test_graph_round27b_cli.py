"""Round 27b: ``metanet graph`` with awkward inputs, and its summary / drawing checked against the module."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from metanet.cli import main
from metanet.graph import describe, plot, to_graph
from metanet.io import save
from metanet.nets import build


def test_pgf_plot_without_latex_is_a_one_line_error_leaving_nothing(tmp_path, capsys, monkeypatch):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no LaTeX (xelatex) to be found
    path = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "my net.safetensors")
    out = tmp_path / "new folder" / "g.pgf"
    assert main(["graph", str(path), "--plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metanet: error: cannot write a plot to") and "pgf" in err and ".png" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new folder").exists()  # drawn in memory first: no file, no folder


def test_plot_in_a_new_folder_with_spaces(tmp_path, capsys):
    path = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "my net.safetensors")
    out = tmp_path / "a b" / "c d.svg"
    assert main(["graph", str(path), "--plot", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(out)
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert [p.name for p in out.parent.iterdir()] == ["c d.svg"]  # no temporary file left


def test_huge_finite_kernels_are_drawn_not_nan():
    m = build("cnn:1-2-3:relu:k3", seed=0)
    with torch.no_grad():
        m.layers[0].weight.fill_(3e38)  # finite float32; its square is not
    fig = plot(m)
    lines = [c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.LineCollection)]
    for c in lines:
        assert np.isfinite(c.get_linewidths()).all() and np.isfinite(c.get_edgecolor()).all()
    # the strongest edge of the first layer is drawn at full width
    assert max(lines[0].get_linewidths()) == pytest.approx(2.5)


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
