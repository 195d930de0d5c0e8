"""inspect on networks users bring (a plain nn.Sequential, its modules named by position or by an OrderedDict): what
INDEX.md and neurons.sqlite say about parameters must be the network's own names, and its neurons its own rows."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

import pytest
import torch
from torch import nn

from metanet import edit, tasks
from metanet.errors import ArchError
from metanet.inspect import NetView, NeuronDB, inspect
from metanet.nets import build

N = 60  # examples measured: enough for the text, fast


def _positional() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Dropout(0.1), nn.Linear(6, 5), nn.Tanh(),
                         nn.Linear(5, 10)).eval()


def _named() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict([("flat", nn.Flatten()), ("fc1", nn.Linear(64, 6)), ("act1", nn.ReLU()),
                                      ("fc2", nn.Linear(6, 5)), ("act2", nn.Tanh()),
                                      ("head", nn.Linear(5, 10))])).eval()


@pytest.mark.parametrize("make, first, second, head", [(_positional, "1", "4", "6"), (_named, "fc1", "fc2", "head")])
def test_index_and_sqlite_name_the_networks_own_parameters(tmp_path, make, first, second, head):
    model = make()
    keys = set(model.state_dict())
    db = inspect(model, "digits", reader=None, max_examples=N)
    db.save(tmp_path)
    text = (tmp_path / "INDEX.md").read_text()
    # was: "layer l reads weight layer `layers.{l-1}`", a name this network does not have
    assert "layers." not in text
    assert f"Weights in: `{first}.weight` (bias `{first}.bias`); read by: `{second}.weight`." in text
    assert f"Weights in: `{second}.weight` (bias `{second}.bias`); read by: `{head}.weight`." in text
    info = db.meta["layer_info"]
    named = [info[l][k] for l in ("1", "2") for k in ("weight", "bias")] + info["1"]["read_by"] + info["2"]["read_by"]
    assert set(named) <= keys
    with sqlite3.connect(tmp_path / "neurons.sqlite") as con:
        meaning = con.execute("SELECT meaning FROM columns WHERE name = 'layer'").fetchone()[0]
        stored = {r[0]: r[1] for r in con.execute("SELECT key, value FROM meta")}
    assert "layers." not in meaning and f"layer 1: {first}.weight, layer 2: {second}.weight" in meaning
    assert f'"weight": "{first}.weight"' in stored["layer_info"]
    # the same text from a reopened database
    assert NeuronDB.load(tmp_path).index_md() == text


def test_a_database_without_recorded_names_says_no_wrong_ones():
    # a database saved before layer_info named the parameters: metanet's own families still get theirs, a
    # Sequential's are not guessed
    mlp = inspect(build("mlp:64-6-10:relu", seed=0), "digits", reader=None, max_examples=N)
    seq = inspect(_named(), "digits", reader=None, max_examples=N)
    for db in (mlp, seq):
        for info in db.meta["layer_info"].values():
            for k in ("weight", "bias", "read_by"):
                info.pop(k)
    assert "Weights in: `layers.0.weight`." in mlp.index_md()
    assert "layer 1: layers.0.weight" in mlp.query("SELECT meaning FROM columns WHERE name = 'layer'")[0]["meaning"]
    text = seq.index_md()
    assert "Weights in" not in text and "layers." not in text and "names its parameters" not in text


def test_the_network_is_described_by_its_modules():
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10))
    # was 'nn.Sequential(9->4, 36->10)': a conv's fan-in read as its input channels, and no layer named
    assert NetView(conv).describe() == "nn.Sequential(0: Conv2d 1->4 3x3, 4: Linear 36->10)"
    db = inspect(_named(), "digits", reader=None, max_examples=N)
    want = "nn.Sequential(fc1: Linear 64->6, fc2: Linear 6->5, head: Linear 5->10)"
    assert db.meta["network"] == want and db.index_md().startswith(f"# INDEX: {want} on digits")
    with pytest.raises(ArchError, match=r"region 3 does not exist: this network \(nn.Sequential\(fc1: Linear"):
        NetView(_named()).region(3)


@pytest.mark.parametrize("model, message", [
    (nn.Sequential(OrderedDict([("fc", nn.Linear(4, 4)), ("act", nn.ReLU()), ("conv", nn.Conv2d(4, 2, 1))])),
     r"module 'conv' \(Conv2d\) reads the output of a Linear layer \(module 'fc'\)"),
    (nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 4, 3)), ("flat", nn.Flatten()), ("head", nn.Linear(37, 3))])),
     r"module 'head' \(Linear with 37 inputs\) does not read whole channels of the 4 outputs of module 'conv'"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(37, 3)),  # positions, as before
     r"module 2 \(Linear with 37 inputs\) does not read whole channels of the 4 outputs of module 0"),
])
def test_unsupported_layouts_name_the_modules_as_the_parameters_are_named(model, message):
    # an OrderedDict's modules were named by position ('module 2'), which its parameter names never show
    with pytest.raises(ArchError, match=message):
        NetView(model)


def test_rows_are_the_named_parameters_rows_and_the_edit_syntax_reaches_them():
    model = _named()
    task = tasks.get("digits")
    db = inspect(model, task, reader=None, max_examples=N)
    sd = model.state_dict()
    rows = db.query("SELECT layer, idx, in_norm, out_norm, bias FROM neurons ORDER BY layer, idx")
    names = {1: ("fc1", "fc2"), 2: ("fc2", "head")}
    assert [(r["layer"], r["idx"]) for r in rows] == [(1, j) for j in range(6)] + [(2, j) for j in range(5)]
    for r in rows:
        w_in, w_out = names[r["layer"]]
        j = r["idx"]
        assert r["in_norm"] == pytest.approx(float(sd[f"{w_in}.weight"][j].norm()), rel=1e-6)
        assert r["out_norm"] == pytest.approx(float(sd[f"{w_out}.weight"][:, j].norm()), rel=1e-6)
        assert r["bias"] == pytest.approx(float(sd[f"{w_in}.bias"][j]))
    # 'L:J' of the edit syntax is the database's (layer, idx): removing 2:3 zeroes row 3 of fc2 and column 3 of head
    out = edit.remove(model, "2:3", task).model.state_dict()
    assert not out["fc2.weight"][3].any() and not out["head.weight"][:, 3].any()
    assert torch.equal(out["fc2.weight"][:3], sd["fc2.weight"][:3])
