"""Follow-ups of session 32 (b): ``metanet.inspect`` on a network with NaN / inf weights or an inf loss names what is
not finite and keeps its ablation effects meaningful; ``metanet.tasks.download`` tells a folder in the way from a
network failure, leaves no empty folder and says how to place the files by hand. No network is used."""

from __future__ import annotations

import copy
import json
import math
import sqlite3

import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.inspect import COLUMNS, NeuronDB
from metanet.inspect.analyze import robust_z
from metanet.nets import MLP
from metanet.tasks import fetch


# ----------------------------------------------------------------- inspect on non-finite networks
@pytest.fixture(scope="module")
def digits_net():
    return metanet.generate("digits", seed=0).model


def _with(net, where: str, value: float, at: tuple[int, ...]):
    m = copy.deepcopy(net)
    with torch.no_grad():
        getattr(m.layers[int(where[0])], where[2:])[at] = value
    return m


@pytest.mark.parametrize("value, kinds", [(math.nan, "NaN incoming weights, NaN outputs"),
                                          (math.inf, "inf incoming weights, NaN and inf outputs")])
def test_a_nan_or_inf_weight_is_named_and_zeroing_its_neuron_repairs_the_network(digits_net, value, kinds, tmp_path):
    net = _with(digits_net, "0.weight", value, (3, 5))
    db = metanet.inspect(net, "digits", reader=None)
    assert not math.isfinite(db.meta["loss"])
    broken = [(r["layer"], r["idx"], r["nonfinite"]) for r in db if r["nonfinite"]]
    assert broken == [(1, 3, kinds)]  # the one neuron, not the 63 healthy ones
    r = db[(1, 3)]
    # zeroing it gives the network back (NaN * 0 was NaN: 'zeroing costs nothing', and inf - inf a NaN loss change)
    assert r["ablation_acc"] > 0.5 and r["ablation_loss"] == -math.inf
    assert all(math.isnan(o["ablation_loss"]) for o in db if o["idx"] != 3)  # the loss stays inf: clearly NaN
    # the other neurons' figures are still measured (one NaN weight made every description of the layer empty)
    assert sum(o["description"].startswith("looks for") for o in db) > 40
    text = db.index_md()
    head = text.split("Per-class accuracy")[0]  # in the first lines, before everything else
    assert f"- layer 1, neuron 3: {kinds}" in head
    assert "zeroing layer 1, neuron 3 alone makes it finite again" in head
    # saved and reopened: the column, the -inf and the text survive
    db.save(tmp_path)
    back = NeuronDB.load(tmp_path)
    assert back[(1, 3)]["nonfinite"] == kinds and back[(1, 3)]["ablation_loss"] == -math.inf
    assert back[(1, 0)]["nonfinite"] is None
    assert f"- layer 1, neuron 3: {kinds}" in back.index_md()
    con = sqlite3.connect(tmp_path / "neurons.sqlite")
    try:
        rows = con.execute("SELECT layer, idx FROM neurons WHERE nonfinite IS NOT NULL").fetchall()
        meaning = con.execute("SELECT meaning FROM columns WHERE name = 'nonfinite'").fetchone()[0]
    finally:
        con.close()
    assert rows == [(1, 3)] and "NaN or inf" in meaning


def test_an_overflowing_network_says_its_loss_is_not_finite_and_no_single_neuron_fixes_it(digits_net):
    m = copy.deepcopy(digits_net)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1e30)  # every weight finite; the logits overflow
    db = metanet.inspect(m, "digits", reader=None)
    assert all(r["nonfinite"] is None for r in db)
    assert all(math.isnan(r["ablation_loss"]) for r in db)
    lines = db.nonfinite_lines()
    assert len(lines) == 1 and "the loss on this split is not finite" in lines[0]
    assert "zeroing no single neuron makes it finite" in lines[0]
    assert lines[0] in db.index_md().split("Per-class accuracy")[0]
    assert any(r["ablation_acc"] != 0 for r in db)  # accuracy effects stay measured


def test_a_nan_bias_of_the_output_layer_is_named_though_no_neuron_owns_it(digits_net):
    db = metanet.inspect(_with(digits_net, "1.bias", math.nan, (2,)), "digits", reader=None)
    assert db.meta["nonfinite_params"] == {"layers.1.bias": "NaN"}
    assert "parameter layers.1.bias (no hidden neuron's): NaN" in db.nonfinite_lines()


def test_neurons_that_only_carry_an_earlier_layers_nan_are_summed_up_per_layer():
    torch.manual_seed(0)
    m = MLP("mlp:64-16-12-10:relu")
    with torch.no_grad():
        m.layers[0].bias[4] = math.nan
    db = metanet.inspect(m, "digits", reader=None)
    lines = db.nonfinite_lines()
    assert lines[0] == "layer 1, neuron 4: NaN bias, NaN outputs"
    assert lines[1].startswith("layer 2, neurons 0, 1, 2,") and "own weights finite" in lines[1]
    assert sum(line.startswith("layer 2") for line in lines) == 1  # one line, not twelve


def test_an_ordinary_network_has_no_nonfinite_figures_or_lines(digits_net):
    db = metanet.inspect(digits_net, "digits", reader=None)
    assert all(r["nonfinite"] is None for r in db) and db.nonfinite_lines() == []
    assert "Not finite" not in db.index_md() and "nonfinite_params" not in db.meta
    assert list(COLUMNS)[-1] == "nonfinite"


def test_a_database_saved_before_the_column_existed_still_loads_and_saves(digits_net, tmp_path):
    db = metanet.inspect(digits_net, "digits", reader=None, max_examples=60)
    db.save(tmp_path)
    con = sqlite3.connect(tmp_path / "neurons.sqlite")
    con.execute("ALTER TABLE neurons DROP COLUMN nonfinite")
    con.commit()
    con.close()
    old = NeuronDB.load(tmp_path)
    assert old[(1, 0)]["nonfinite"] is None and old.nonfinite_lines() == []
    old.save(tmp_path / "again")  # a KeyError without the default


def test_robust_z_ignores_a_nan_when_scoring_the_others():
    x = torch.tensor([1.0, 1.1, 0.9, 1.05, 0.95, 30.0, math.nan], dtype=torch.float64)
    z = robust_z(x)
    assert z[5] > 4 and math.isnan(z[6])  # one NaN made every score of the layer 0
    assert torch.equal(robust_z(x[:6]), z[:6])


def test_the_cli_prints_what_is_not_finite(digits_net, tmp_path, capsys):
    from metanet.cli import main

    path = tmp_path / "nan.safetensors"
    metanet.save(_with(digits_net, "0.weight", math.nan, (3, 5)), path)
    assert main(["inspect", str(path), "--task", "digits", "--out", str(tmp_path / "o"), "--no-reader",
                 "--no-pictures"]) == 0
    out = capsys.readouterr().out
    assert "not finite: layer 1, neuron 3: NaN incoming weights, NaN outputs" in out.splitlines()[1]
    assert main(["inspect", str(path), "--task", "digits", "--out", str(tmp_path / "j"), "--no-reader",
                 "--no-pictures", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["nonfinite"][0] == "layer 1, neuron 3: NaN incoming weights, NaN outputs"


# ----------------------------------------------------------------- download
@pytest.fixture
def no_network(monkeypatch):
    def urlopen(*args, **kwargs):
        raise AssertionError("the network must not be used")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)


@pytest.fixture
def refused(monkeypatch):
    def urlopen(url, timeout=None):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)


def test_a_folder_named_like_a_file_is_told_before_any_download(tmp_path, no_network):
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").mkdir(parents=True)
    with pytest.raises(TaskError, match=r"t10k-labels-idx1-ubyte.gz is a folder, not the file; move it away") as e:
        tasks.download("mnist", tmp_path)
    assert "could not download" not in str(e.value)  # it blamed the network: 'Is a directory'


def test_a_failed_download_leaves_no_empty_folder(tmp_path, refused):
    root = tmp_path / "new" / "data"
    with pytest.raises(TaskError, match="could not download .*Network is unreachable"):
        tasks.download("mnist", root)
    assert list(tmp_path.iterdir()) == []  # nor the root it created for it
    # a folder that was there before is kept, empty or not
    (tmp_path / "mine" / "fashion-mnist").mkdir(parents=True)
    with pytest.raises(TaskError):
        tasks.download("fashion-mnist", tmp_path / "mine")
    assert (tmp_path / "mine" / "fashion-mnist").is_dir()


def test_a_failed_download_says_how_to_place_the_files_by_hand(tmp_path, refused, monkeypatch):
    monkeypatch.delenv("METANET_DATA", raising=False)
    with pytest.raises(TaskError) as e:
        tasks.download("fashion-mnist", tmp_path)
    msg = str(e.value)
    assert "without network, put the four IDX files" in msg and str(tmp_path / "fashion-mnist") in msg
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
              "t10k-labels-idx1-ubyte.gz"):
        assert f in msg
    assert f"set METANET_DATA={tmp_path}" in msg  # a root the loaders do not search: how they find it
    monkeypatch.setenv("METANET_DATA", str(tmp_path))
    with pytest.raises(TaskError) as e:
        tasks.download("fashion-mnist")  # the default root: searched already
    assert "by hand" in str(e.value) and "set METANET_DATA" not in str(e.value)
