"""What inspect says about planted neurons: a ReLU that fires on two examples of one class is not polysemantic, a
neuron that no logit reads raises no logit, and a CNN whose channels the reader does not read says so."""

from __future__ import annotations

import torch
from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import inspect
from metanet.nets import build


def test_a_neuron_firing_on_two_examples_of_one_class_is_not_polysemantic():
    task = planted_task()  # 4 classes of 40; the top-8 examples of a neuron are the ones its polysemanticity reads
    x, y = task.split("test")
    m = planted_mlp()
    f = x.flatten(1)[:, 1]  # feature 1: near 1 on class 1 only
    top = f.sort(descending=True).values
    with torch.no_grad():
        m.layers[0].weight[8] = 0.0
        m.layers[0].weight[8, 1] = 1.0
        m.layers[0].bias[8] = -float(top[1] + top[2]) / 2  # fires on the two class-1 examples with the largest f
    db = inspect(m, task, reader=None)
    r = db[(1, 8)]
    fired = y[torch.relu(f - float(top[1] + top[2]) / 2) > 0]
    assert fired.tolist() == [1, 1] and r["frac_active"] == 2 / len(y)
    assert r["top_class"] == 1 and r["selectivity"] > 0.99
    # the other 6 of its top 8 were examples tied at 0 (of any class): 0.42-like scores for a one-class neuron
    assert r["polysemanticity"] == 0.0
    assert db[(1, 7)]["polysemanticity"] > 0.25  # the planted mixed neuron (classes 2 and 3) still is


def test_a_neuron_with_zero_outgoing_weights_raises_no_logit():
    task, m = planted_task(), planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[:, 6] = 0.0  # neuron 6 still fires on class 3, but no logit reads it
    db = inspect(m, task, reader=None)
    r = db[(1, 6)]
    assert r["dead"] == 0 and r["out_norm"] == 0.0
    assert r["writes_to"] is None  # argmax of an all-zero column said class 0
    assert "raises logit" not in db._neuron_line(r)
    assert db[(1, 4)]["writes_to"] == 3 and db[(1, 5)]["writes_to"] == 1  # neurons that are read keep theirs


def test_a_cnn_channel_no_logit_reads_raises_no_logit():
    m = build("cnn:1-3-4-10:relu:k3:s1", seed=0).eval()
    with torch.no_grad():
        m.layers[2].weight[:, 1] = 0.0  # the head reads channel 1 of layer 2 nowhere
    db = inspect(m, "digits", reader=None, max_examples=40)
    assert db[(2, 1)]["writes_to"] is None
    head = m.layers[2].weight.detach()
    assert [db[(2, j)]["writes_to"] for j in (0, 2, 3)] == head[:, [0, 2, 3]].argmax(0).tolist()


def test_a_cnn_whose_channel_roles_the_reader_does_not_read_says_so():
    import metanet

    m = build("cnn:1-3-10:relu:k3:s1", seed=0).eval()
    reading = metanet.read(m, scan=False, input_shape=(1, 8, 8))
    assert all(n["role"] is None for n in reading["neurons"])
    db = inspect(m, "digits", reader=lambda net: reading, max_examples=40)
    assert all(r["role"] is None for r in db)
    # was "from the reader", and INDEX.md said "Reader roles: from the reader." of a database without one role
    assert db.meta["reader"] == f"not read ({reading['roles_not_read']})"
    assert "Reader roles: not read (the reader learnt neuron roles from MLPs only" in db.index_md()
