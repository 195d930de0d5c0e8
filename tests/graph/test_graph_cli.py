"""``metanet graph FILE [--plot out.png] [--json]``, also with awkward outputs: a plot format that needs LaTeX
(one-line error, nothing left behind) and a new folder whose name has spaces."""

from __future__ import annotations

import json

import torch
from torch import nn

from metanet.cli import main
from metanet.io import save
from metanet.nets import build


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


def test_cli_graph_refuses_an_unknown_image_type(tmp_path, capsys):
    path = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "net.safetensors")
    assert main(["graph", str(path), "--plot", str(tmp_path / "net.xyz")]) == 2
    err = capsys.readouterr().err
    assert "unknown image type 'xyz'; valid:" in err and "png" in err


def test_cli_graph_plot_to_a_directory_is_one_line(tmp_path, capsys):
    """A directory whose name has an image suffix passes the type check; it is refused before drawing."""
    path = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "net.safetensors")
    (tmp_path / "plots.png").mkdir()
    assert main(["graph", str(path), "--plot", str(tmp_path / "plots.png")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (f"metanet: error: --plot {str(tmp_path / 'plots.png')!r} is a directory; give a "
                                    f"file path, e.g. {tmp_path / 'plots.png' / 'graph.png'}")


def test_cli_graph_dpi_too_large_for_an_image_is_one_line(tmp_path, capsys):
    """An image larger than matplotlib can draw (65535 pixels a side) is refused naming the largest valid --dpi,
    not a MemoryError/ValueError traceback from the renderer."""
    path = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "net.safetensors")
    png = tmp_path / "net.png"
    assert main(["graph", str(path), "--plot", str(png), "--dpi", "100000"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = captured.err.strip()
    assert line.startswith("metanet: error: --dpi 100000 makes a 660000x600000-pixel image") and "\n" not in line
    largest = int(line.rsplit("<= ", 1)[1])
    assert not png.exists()
    assert main(["graph", str(path), "--plot", str(png), "--dpi", str(largest + 1)]) == 2
    assert "--dpi" in capsys.readouterr().err


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
