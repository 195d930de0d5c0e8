"""A class with no example in the measured data has no class mean (NaN), and is never a neuron's top class: a 0
for it outranked a tanh neuron's negative means on every class that is there."""

from __future__ import annotations

import math

import torch
from inspect_helpers import planted_task

from metanet.inspect import inspect
from metanet.nets import build


def test_an_absent_class_is_nan_and_never_the_top_class_of_a_negative_neuron():
    task = planted_task()
    x, y = task.split("test")
    assert 3 not in y[:24].tolist() and set(y[:24].tolist()) == {0, 1, 2}  # the first 24: classes 0, 1 and 2 only
    m = build("mlp:8-3-4:tanh", seed=0).eval()
    with torch.no_grad():
        m.layers[0].weight.zero_()
        m.layers[0].weight[:, 0] = 1.0  # tanh(x0 - 2) < 0 on every input in [0, 1], highest on class 0
        m.layers[0].bias.fill_(-2.0)
    db = inspect(m, task, reader=None, max_examples=24)
    for r in db:
        assert r["dead"] == 0 and all(v < 0 for v in r["class_means"][:3])
        assert math.isnan(r["class_means"][3])
        assert r["top_class"] == 0  # not the absent class 3
        assert math.isnan(r["ablation_per_class"][3])  # nothing to lose there either
