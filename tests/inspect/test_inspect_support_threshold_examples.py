"""A neuron supports a class when zeroing it costs the class at least ``support_threshold`` of its accuracy AND at
least two of its examples (one example of a small class is noise); ``support_strength`` is that largest drop, >= 0."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import PLANTED, PLANTED_CLASS, planted_mlp, planted_task

from metanet.inspect import inspect

HELPER = 8  # the planted network's dead neuron, made to carry class 1 on chosen examples
N = 8  # test examples of class 1


def _net_needing_one_neuron_for(k: int):
    """The planted network with class 1's carrier silenced, and neuron 8 firing on the ``k`` class-1 examples with the
    largest feature 1 only: it makes exactly those examples right, so zeroing it costs class 1 exactly ``k`` of its
    ``N`` test examples and no other class anything."""
    task = planted_task()
    x, y = task.split("test")
    f = x.flatten(1)[:, 1]
    top = f.sort(descending=True).values
    cut = float(top[k - 1] + top[k]) / 2
    m = planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[PLANTED_CLASS, PLANTED] = 0.0  # class 1 is never predicted without neuron 8
        m.layers[0].weight[HELPER] = 0.0
        m.layers[0].weight[HELPER, 1] = 1.0
        m.layers[0].bias[HELPER] = -cut
        m.layers[1].weight[:, HELPER] = 0.0
        m.layers[1].weight[PLANTED_CLASS, HELPER] = 1e4
    fired = y[f > cut]
    assert fired.tolist() == [PLANTED_CLASS] * k and int((y == PLANTED_CLASS).sum()) == N
    assert float(f[f > cut].min() - cut) * 1e4 > 1.0  # its logit beats class 0's bias of 0.5 on all of them
    return m, task


def test_one_example_of_a_class_is_not_support_however_large_its_share():
    m, task = _net_needing_one_neuron_for(1)
    r = inspect(m, task, reader=None)[(1, HELPER)]
    assert r["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-1 / N) and 1 / N > 0.02  # over the default threshold
    assert r["supports"] == []  # but one example only
    assert r["support_strength"] == pytest.approx(1 / N)  # the drop is still reported, as a positive number


def test_two_examples_over_the_threshold_are_support():
    m, task = _net_needing_one_neuron_for(2)
    r = inspect(m, task, reader=None)[(1, HELPER)]
    assert r["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-2 / N)
    assert r["supports"] == [PLANTED_CLASS]
    assert r["support_strength"] == pytest.approx(2 / N)


def test_a_drop_equal_to_the_threshold_counts_as_support():
    # 3 of 8 examples is 0.375 of the class, exactly the threshold given: "at least", not "more than"
    m, task = _net_needing_one_neuron_for(3)
    db = inspect(m, task, reader=None, support_threshold=0.375)
    assert db[(1, HELPER)]["supports"] == [PLANTED_CLASS]
    assert inspect(m, task, reader=None, support_threshold=0.376)[(1, HELPER)]["supports"] == []
