"""metanet.inspect: the neuron database measured on hand-built and trained networks."""

from __future__ import annotations

import math
import re
import sqlite3

import pytest
import torch
from inspect_helpers import CARRIERS, DEAD, MIXED, PLANTED, PLANTED_CLASS, digits_mlp, planted_mlp, planted_task, train
from torch import nn

import metanet.inspect
from metanet import tasks
from metanet.errors import ArchError, ConfigError, FileFormatError, TaskError
from metanet.inspect import COLUMNS, NeuronDB, inspect
from metanet.inspect.measure import ablate_layer, evaluate_masks
from metanet.inspect.netview import NetView
from metanet.nets import build


@pytest.fixture(scope="module")
def planted_db():
    return inspect(planted_mlp(), planted_task())


def test_ablating_the_planted_neuron_drops_exactly_its_class(planted_db):
    row = planted_db[(1, PLANTED)]
    assert row["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-1.0)
    assert [d for c, d in enumerate(row["ablation_per_class"]) if c != PLANTED_CLASS] == [0.0, 0.0, 0.0]
    assert row["supports"] == [PLANTED_CLASS]
    assert row["ablation_acc"] == pytest.approx(-0.25)  # one class of four, balanced test split
    # every class but the planted one has two carriers: zeroing either alone costs nothing
    for c, carriers in CARRIERS.items():
        for j in carriers:
            if j != PLANTED:
                assert planted_db[(1, j)]["supports"] == []
                assert all(d == 0 for d in planted_db[(1, j)]["ablation_per_class"])


def test_selectivity_polysemanticity_and_dead(planted_db):
    row = planted_db[(1, PLANTED)]
    assert row["top_class"] == PLANTED_CLASS and row["selectivity"] == pytest.approx(1.0)
    assert row["polysemanticity"] == pytest.approx(0.0)
    assert row["writes_to"] == PLANTED_CLASS
    mixed = planted_db[(1, MIXED)]
    assert mixed["top_class"] in (2, 3) and mixed["polysemanticity"] > 0.25
    assert mixed["frac_active"] == pytest.approx(0.5)  # fires on classes 2 and 3 only
    assert planted_db[(1, DEAD)]["dead"] == 1 and planted_db[(1, DEAD)]["frac_active"] == 0
    assert sum(r["dead"] for r in planted_db) == 1
    assert row["in_norm"] == pytest.approx(1.0) and row["out_norm"] == pytest.approx(10.0)
    assert row["bias"] == pytest.approx(-0.5)


def test_index_names_the_planted_neuron(planted_db):
    text = planted_db.index_md()
    line = next(l for l in text.splitlines() if l.startswith("- **layer 1, neuron 5**"))
    assert re.search(r"support 1 \(one\)", line) and "100.0 points" in line
    assert "layer 1, neuron 8**: dead" in text
    # redundant carriers are grouped by the class they fire on, and said to be redundant
    assert "layer 1, neurons 0, 1**: fire most on 0 (zero)" in text


def test_ablation_is_one_vectorised_pass_equal_to_single_ablations():
    task = tasks.get("digits")
    model = digits_mlp()
    v = NetView(model)
    x, y = task.split("test")
    batched = ablate_layer(v, 1, x, y, 10)
    for j in (0, 7, 31):
        mask = torch.ones(1, 32)
        mask[0, j] = 0
        one = evaluate_masks(v, x, y, 10, {1: mask})
        assert batched.per_class[j].tolist() == one.per_class[0].tolist()
        with torch.no_grad():
            ref = model.layers[0].weight.clone(), model.layers[0].bias.clone()
            model.layers[0].weight[j] = 0
            model.layers[0].bias[j] = 0
            acc = (model(x).argmax(1) == y).double().mean()
            model.layers[0].weight.copy_(ref[0])
            model.layers[0].bias.copy_(ref[1])
        assert float(batched.accuracy[j]) == pytest.approx(float(acc))


def test_save_load_roundtrip_and_sql(tmp_path, planted_db):
    paths = planted_db.save(tmp_path)
    assert paths["sqlite"].name == "neurons.sqlite" and paths["index"].read_text() == planted_db.index_md()
    again = NeuronDB.load(tmp_path)
    assert again.index_md() == planted_db.index_md()
    assert again[(1, PLANTED)]["supports"] == [PLANTED_CLASS]
    hits = again.query("SELECT layer, idx FROM ablation WHERE class = ? AND delta < -0.5", (PLANTED_CLASS,))
    assert hits == [{"layer": 1, "idx": PLANTED}]
    con = sqlite3.connect(paths["sqlite"])
    cols = [r[1] for r in con.execute("PRAGMA table_info(neurons)")]
    con.close()
    assert cols == list(COLUMNS)
    assert planted_db.supporting(PLANTED_CLASS) == [(1, PLANTED)]
    with pytest.raises(FileFormatError, match="neurons.sqlite"):
        NeuronDB.load(tmp_path / "missing")
    (tmp_path / "junk.sqlite").write_text("not a database")
    with pytest.raises(FileFormatError, match="not a neuron database"):
        NeuronDB.load(tmp_path / "junk.sqlite")


@pytest.mark.parametrize(
    "arch", ["mlp:64-16-16-10:relu:skip", "mlp:64-12-12-10:sigmoid:skip", "cnn:1-4-6-10:relu:k3:s2"]
)
def test_inspect_families(arch):
    task = tasks.get("digits")
    x, y = task.split("train")
    model = train(build(arch, seed=1), x[:400], y[:400], epochs=5)
    db = inspect(model, task, max_examples=120)
    widths = model.arch.widths[1:-1]
    assert db.layers == list(range(1, len(widths) + 1))  # input = layer 0
    assert [len(db.layer(i)) for i in db.layers] == list(widths)
    assert db.meta["n"] == 120
    assert db[(2, 0)]["kind"] == ("channel" if arch.startswith("cnn") else "unit")
    for r in db:
        assert len(r["ablation_per_class"]) == 10 and len(r["top_examples"]) == 8
        assert 0 <= r["frac_active"] <= 1 and not math.isnan(r["in_norm"])


def test_sequential_and_reader_roles():
    task = planted_task()
    src = planted_mlp()
    seq = nn.Sequential(nn.Flatten(), nn.Linear(8, 9), nn.ReLU(), nn.Linear(9, 4))
    seq.load_state_dict({"1.weight": src.layers[0].weight, "1.bias": src.layers[0].bias,
                         "3.weight": src.layers[1].weight, "3.bias": src.layers[1].bias})

    def reader(model):
        return {"neurons": [{"layer": 1, "index": j, "role": "class 1 detector" if j == PLANTED else "other"}
                            for j in range(9)]}

    db = inspect(seq, task, reader=reader)
    assert db[(1, PLANTED)]["supports"] == [PLANTED_CLASS]
    assert db[(1, PLANTED)]["role"] == "class 1 detector"
    assert "reader: class 1 detector" in db.index_md()
    assert db.meta["reader"] == "from the reader"
    assert inspect(seq, task, reader=None)[(1, PLANTED)]["role"] is None

    def broken(model):
        raise RuntimeError("no checkpoint")

    db = inspect(seq, task, reader=broken)  # roles are optional: a failing reader does not fail inspection
    assert db[(1, PLANTED)]["role"] is None and db.meta["reader"] == "reader failed: RuntimeError: no checkpoint"
    # a reader that is no reader at all (a typo, a path) was called, failed and recorded as "reader failed"
    from metanet.errors import ConfigError

    for bad in ("atuo", "reader.safetensors", 3):
        with pytest.raises(ConfigError, match=r"inspect reader must be 'auto', None or a callable"):
            inspect(seq, task, reader=bad)


def test_package_is_callable_and_errors_are_clear():
    task = planted_task()
    db = metanet.inspect(planted_mlp(), task)  # the package itself, as `metanet.inspect`
    assert isinstance(db, NeuronDB) and len(db) == 9
    with pytest.raises(ArchError, match="layer 1 \\(LSTM: .*is not supported; supported layers: Linear"):
        inspect(nn.Sequential(nn.Flatten(), nn.LSTM(8, 4)), task)
    with pytest.raises(ArchError, match="expects 64 input features"):
        inspect(build("mlp:64-8-4:relu"), task)
    with pytest.raises(ArchError, match="valid hidden layers \\(input = layer 0\\): 1 \\(9 units\\)"):
        NetView(planted_mlp()).layer(2)


@pytest.mark.parametrize("masks, record, error, message", [
    ({1: torch.ones(2, 9)}, True, ConfigError, r"record=True is only supported without masks; record the unmasked"),
    ({1: torch.ones(2, 8)}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor: K variants, one column per "
                                                r"unit of layer 1; got shape \(2, 8\)"),
    ({1: torch.ones(9)}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor.*got shape \(9,\)"),
    ({1: [[1.0] * 9]}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor.*got list"),
    ({"a": torch.ones(2, 9)}, False, ArchError, r"layer 'a' is not a hidden layer .*valid hidden layers"),
    ({1.9: torch.ones(2, 9)}, False, ArchError, r"layer 1.9 is not a hidden layer"),
])
def test_netview_forward_refuses_masks_that_do_not_fit(masks, record, error, message):
    # were a ValueError (record with masks, key 'a'), torch's RuntimeError (a mask of the wrong width), an
    # AttributeError (a list), and a (9,) mask or key 1.9 taken silently (as 9 variants, as layer 1)
    x = planted_task().split("test")[0][:5]
    with pytest.raises(error, match=message):
        NetView(planted_mlp()).forward(x, masks, record=record)


def test_netview_forward_masks_of_different_variant_counts_are_a_config_error():
    seq = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))
    with pytest.raises(ConfigError, match=r"all masks need the same number of variants K \(their first dimension\), "
                                          r"got \[2, 3\]"):
        NetView(seq).forward(torch.rand(4, 8), {1: torch.ones(2, 6), 2: torch.ones(3, 5)})


def test_inspect_leaves_the_callers_training_mode_alone():
    model = planted_mlp().train()
    inspect(model, planted_task(), reader=None)
    assert model.training


def test_inspect_a_float64_network():
    model = planted_mlp().double()
    db = inspect(model, planted_task(), reader=None)
    assert db[(1, PLANTED)]["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-1.0)
    assert db[(1, DEAD)]["dead"] == 1


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True])
def test_top_k_must_be_a_positive_integer(top_k):
    # -3 used to store all but the last 3 examples as "top" examples; 0 made save_pictures fail on an empty mosaic
    with pytest.raises(TaskError, match=r"top_k must be an integer >= 1"):
        inspect(planted_mlp(), planted_task(), reader=None, top_k=top_k)


@pytest.mark.parametrize("threshold", [-0.5, float("nan"), 1.5, "x"])
def test_support_threshold_must_be_a_fraction(threshold):
    with pytest.raises(TaskError, match=r"support_threshold must be an accuracy drop in \[0, 1\]"):
        inspect(planted_mlp(), planted_task(), reader=None, support_threshold=threshold)


@pytest.mark.parametrize("cls", [4, -1, "1", None])
def test_supporting_a_class_the_task_does_not_have_is_an_error(planted_db, cls):
    # used to answer [] ("no neuron supports it"), indistinguishable from a real class nothing depends on
    with pytest.raises(TaskError, match=r"class .* does not exist: the task has classes 0..3"):
        planted_db.supporting(cls)
