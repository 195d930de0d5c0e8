"""inspect on networks whose logits hold NaN: a row of NaN logits predicts nothing (argmax read it as class 0, so
the network was 'right' on class 0 and zeroing a neuron 'cost' class 0), and the neuron that carries the NaN is
listed, and written the same once its database is reopened."""

from __future__ import annotations

import math

import torch
from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import NeuronDB, inspect


def _nan_into_class_0():
    m = planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[0, 5] = math.nan  # neuron 5 (class 1's only carrier) writes NaN into class 0's logit
    return m


def test_nan_logits_are_right_on_no_class_and_zeroing_the_neuron_that_writes_them_scores_the_rest():
    db = inspect(_nan_into_class_0(), planted_task(), reader=None)
    assert db.meta["accuracy"] == 0.0 and db.meta["per_class"] == [0.0] * 4  # argmax said 0: 0.25, class 0 at 1.0
    # zeroing neuron 5 makes every logit finite: right on classes 0, 2 and 3, not on 1 (its only carrier is gone)
    assert db[(1, 5)]["ablation_acc"] == 0.75
    assert all(r["supports"] == [] for r in db)  # nothing right to lose


def test_a_reopened_database_writes_the_listed_neuron_with_a_nan_outgoing_weight(tmp_path):
    db = inspect(_nan_into_class_0(), planted_task(), reader=None)
    r = db[(1, 5)]
    assert math.isnan(r["out_norm"]) and r["selectivity"] > 0.5 and r["top_class"] == 1  # a selective neuron
    assert any(g["neurons"] == [5] and g["kind"] == "selective" for g in db.groups(1))
    assert "  - neuron 5: " in db.index_md()  # listed, with its NaN norm
    db.save(tmp_path)
    back = NeuronDB.load(tmp_path)
    assert math.isnan(back[(1, 5)]["out_norm"])
    assert back.index_md() == db.index_md()
