"""Is what inspect says about a neuron true? Checked on hand-built networks whose truth is known, and against doing
what it describes: removing the neuron with metanet.edit and measuring the result."""

from __future__ import annotations

import math
import sqlite3

import pytest
import torch
from inspect_helpers import planted_mlp, planted_task
from torch import nn

from metanet import edit, tasks
from metanet.inspect import NetView, NeuronDB, inspect
from metanet.inspect.analyze import robust_z
from metanet.nets import build


def _accuracy(model: nn.Module, task) -> float:
    x, y = task.split("test")
    with torch.no_grad():
        logits = model.eval()(x)
    # as verify scores it: a row of logits with a NaN or an infinity predicts nothing (argmax would say class 0)
    return float(((logits.argmax(1) == y) & torch.isfinite(logits).all(1)).double().mean())


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_zeroing_a_neuron_with_a_nonfinite_outgoing_weight_scores_what_removing_it_does(value):
    task, m = planted_task(), planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[2, 3] = value  # neuron 3's weight into class 2's logit: every logit row non-finite
    db = inspect(m, task, reader=None)
    assert db.meta["accuracy"] == 0.0  # no row has finite logits: no prediction, none right (argmax said 0: 0.25)
    removed = _accuracy(edit.remove(m, "1:3", task).model, task)
    assert removed == 1.0  # removing it (its outgoing weights zeroed too) gives the network back
    r = db[(1, 3)]
    # the mask left 0 * NaN = NaN in the next layer: 'zeroing costs nothing' (0.0) and a NaN loss change
    assert r["ablation_acc"] == removed - db.meta["accuracy"] and r["ablation_loss"] == -math.inf
    assert "zeroing layer 1, neuron 3 alone makes it finite again" in db.index_md()  # was: 'no single neuron'
    others = [o for o in db if o["idx"] != 3]
    assert all(o["ablation_acc"] == 0 and math.isnan(o["ablation_loss"]) for o in others)


def test_a_channel_read_through_flatten_with_a_nan_weight_is_scored_as_removed():
    task = tasks.resolve("digits")
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10), nn.Tanh(),
                        nn.Linear(10, 10)).eval()
    with torch.no_grad():
        seq[4].weight[3, 9 * 2 + 4] = math.nan  # a weight reading channel 2 (columns 18..26 after Flatten)
    db = inspect(seq, task, reader=None, max_examples=60)
    assert [r["idx"] for r in db.layer(1) if r["nonfinite"]] == [2]
    for j in range(4):  # the channel with the NaN and the others: what removing each does
        got = edit.remove(seq, (1, j), task).model
        x, y = task.split("test")
        with torch.no_grad():
            logits = got(x[:60])
        acc = float(((logits.argmax(1) == y[:60]) & torch.isfinite(logits).all(1)).double().mean())
        assert db[(1, j)]["ablation_acc"] == pytest.approx(acc - db.meta["accuracy"], abs=1e-12), j
        assert (db[(1, j)]["ablation_loss"] == -math.inf) == bool(torch.isfinite(logits).all()) == (j == 2)


def test_a_residual_stream_weight_stays_as_removing_leaves_it():
    # on a residual MLP the NaN column reads a stream position other neurons write too: removing a neuron leaves
    # it, so zeroing that neuron must not be scored as if it went
    task, m = planted_task(), build("mlp:8-9-9-4:relu:skip", seed=0).eval()
    with torch.no_grad():
        m.layers[2].weight[1, 4] = math.nan
    db = inspect(m, task, reader=None)
    for layer in (1, 2):
        assert db[(layer, 4)]["ablation_acc"] == _accuracy(edit.remove(m, (layer, 4), task).model, task) - \
            db.meta["accuracy"]
    assert math.isnan(db[(2, 4)]["ablation_loss"])


def test_one_huge_outgoing_weight_among_equal_ones_is_an_outlier():
    task, m = planted_task(), planted_mlp()
    with torch.no_grad():  # neuron 7 decides the output: class 2 whenever it fires
        m.layers[1].weight[:, 7] = torch.tensor([0.0, 0.0, 1000.0, 0.0])
    db = inspect(m, task, reader=None)
    assert db[(1, 7)]["out_norm"] == 1000 and db[(1, 7)]["ablation_acc"] == 0.25  # the premise, measured
    # the other out norms are all 10 (MAD 0): every outlier score of the layer was 0
    assert (1, 7) in db.outliers() and db[(1, 7)]["outlier"] > 4
    assert "- layer 1, neuron 7: z = " in db.index_md()
    with torch.no_grad():
        m.layers[1].weight[:, 7] = torch.tensor([0.0, 0.0, math.inf, 0.0])
    assert inspect(m, task, reader=None)[(1, 7)]["outlier"] == math.inf  # its own score is inf, as documented


def test_robust_z_when_most_values_are_equal():
    ten = [10.0] * 8
    assert robust_z(torch.tensor(ten + [1000.0], dtype=torch.float64))[-1] > 4
    assert robust_z(torch.tensor(ten + [10.0], dtype=torch.float64)).tolist() == [0.0] * 9
    assert robust_z(torch.tensor(ten + [10.00001], dtype=torch.float64)).abs().max() < 1  # rounding: no outlier
    z = robust_z(torch.tensor([0.0] * 8 + [math.inf, math.nan], dtype=torch.float64))
    assert z[:8].tolist() == [0.0] * 8 and z[8] == math.inf and math.isnan(z[9])
    spread = torch.tensor([1.0, 1.1, 0.9, 1.05, 0.95, 30.0], dtype=torch.float64)  # MAD > 0: as before
    med = 1.025  # the mean of the middle two, 1.0 and 1.05 (torch's median is the lower one, 1.0)
    mad = 0.075  # of the deviations 0.025, 0.025, 0.075, 0.075, 0.125, 28.975
    assert robust_z(spread).tolist() == pytest.approx(((spread - med) / (mad * 1.4826)).tolist(), rel=1e-12)


def test_a_removed_sigmoid_neuron_is_called_safe_to_remove_not_read_like_a_bias():
    task = planted_task()
    m = edit.remove(build("mlp:8-9-4:sigmoid", seed=0), "1:3", task).model
    db = inspect(m, task, reader=None)
    assert db[(1, 3)]["dead"] and db[(1, 3)]["act_mean"] == 0.5 and db[(1, 3)]["out_norm"] == 0
    line = next(db.group_line(1, g) for g in db.groups(1) if g["kind"] == "dead")
    assert "safe to remove" in line and "clamp" not in line and "reads like a bias" not in line
    # true: zeroing it changes no logit (no layer reads it)
    x, _ = task.split("test")
    mask = torch.ones(1, 9)
    mask[0, 3] = 0
    assert torch.equal(NetView(m).forward(x, {1: mask})[0][0], m(x))


def test_a_dead_group_with_a_read_and_an_unread_constant_says_which_is_which():
    m = planted_mlp()
    with torch.no_grad():
        m.layers[0].weight[6] = 0  # neuron 6: constant 2, read by class 3's logit
        m.layers[0].bias[6] = 2.0
        m.layers[0].weight[7] = 0  # neuron 7: constant 1, read by no layer
        m.layers[0].bias[7] = 1.0
        m.layers[1].weight[:, 7] = 0
    db = inspect(m, planted_task(), reader=None)
    line = next(db.group_line(1, g) for g in db.groups(1) if g["kind"] == "dead")
    assert ("neurons 7, 8 output 0 or are read by no layer (safe to remove); neuron 6 outputs a nonzero constant "
            "(up to 2)") in line


def test_a_reopened_database_of_a_nan_network_writes_its_index(tmp_path):
    m = planted_mlp()
    with torch.no_grad():  # class 0 has no carrier; neuron 5 outputs NaN, so every logit is NaN: no prediction
        m.layers[1].weight[0, :2] = 0
        m.layers[1].bias.copy_(torch.tensor([-1.0, 0.0, 0.2, 0.1]))
        m.layers[0].weight[5, 0] = math.nan
    db = inspect(m, planted_task(), reader=None)
    r = db[(1, 5)]
    # no class to support: NaN logits are wrong for every class (argmax said 0, so zeroing it 'cost' class 0)
    assert r["supports"] == [] and math.isnan(r["selectivity"]) and math.isnan(r["in_norm"])
    db.save(tmp_path)
    con = sqlite3.connect(tmp_path / "neurons.sqlite")
    try:
        stored = con.execute("SELECT selectivity, in_norm, bias FROM neurons WHERE layer = 1 AND idx = 5").fetchone()
    finally:
        con.close()
    assert stored == (None, None, -0.5)  # SQLite keeps NaN as NULL
    back = NeuronDB.load(tmp_path)
    assert math.isnan(back[(1, 5)]["selectivity"]) and math.isnan(back[(1, 5)]["in_norm"])
    assert back[(1, 5)]["bias"] == -0.5
    assert back.index_md() == db.index_md()  # a TypeError ('{None:.2f}') once reopened


def test_a_nan_weight_into_a_logit_is_not_the_logit_a_neuron_raises_most():
    m = planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[2, 0] = math.nan  # neuron 0: +10 into class 0's logit, NaN into class 2's
        m.layers[1].weight[:, 8] = math.nan  # neuron 8: NaN into every logit
        m.layers[1].weight[3, 4] = math.inf  # neuron 4: inf into class 3's logit (its own class)
    db = inspect(m, planted_task(), reader=None)
    assert [db[(1, j)]["writes_to"] for j in (0, 4, 8)] == [0, 3, None]  # argmax took the NaN for the largest
    assert "raises logit" not in db._neuron_line(db[(1, 8)])


def test_the_default_reader_reads_roles_without_the_trigger_scan(monkeypatch):
    # reader="auto" called metanet.read(model), whose trigger scan (Neural Cleanse: 19 s against 1.5 s for a digits
    # MLP, minutes for a small CNN) ran on every inspect, the demo's too, and its result was thrown away
    import metanet

    calls = []

    def read(model, **kw):
        calls.append(kw)
        return {"neurons": [{"layer": 1, "index": 0, "role": "dead", "class": None}]}

    monkeypatch.setattr(metanet, "read", read)
    db = inspect(planted_mlp(), planted_task())  # reader="auto" by default
    assert calls == [{"scan": False}]
    assert db[(1, 0)]["role"] == "dead" and db.meta["reader"] == "from the reader"
