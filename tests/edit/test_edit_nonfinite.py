"""Edits of networks holding NaN or inf: what they refuse, and why, is true."""

from __future__ import annotations

import math

import pytest
import torch
from inspect_helpers import planted_mlp, planted_task

from metanet import edit, tasks
from metanet.errors import ArchError, TaskError


def _inf_out():
    m = planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[2, 3] = math.inf  # one outgoing weight of neuron 3 is inf
    return m


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0])
def test_a_neuron_with_an_inf_weight_can_be_scaled(factor):
    m, task = _inf_out(), planted_task()
    res = edit.scale(m, "1:3", factor, task)  # every factor was 'makes a parameter of size inf: a smaller factor'
    col = res.model.layers[1].weight[:, 3]
    assert col[2] == math.inf and torch.equal(col[[0, 1, 3]], factor * m.layers[1].weight[[0, 1, 3], 3])
    x, y = task.split("test")
    with torch.no_grad():
        logits = res.model(x)
    # as verify scores it: a row with a NaN or inf logit predicts nothing (argmax took its inf / NaN for class 2)
    assert res.report.after.accuracy == float(((logits.argmax(1) == y) & torch.isfinite(logits).all(1)).double().mean())


def test_a_scale_that_overflows_a_finite_weight_is_still_refused():
    with pytest.raises(ArchError, match="neuron 1:2 by 1e[+]38 makes a parameter of size 1e[+]39.*a smaller factor"):
        edit.scale(_inf_out(), "1:2,3", 1e38, planted_task())  # neuron 2's weight is 10


def test_clamping_to_a_nan_mean_says_so_and_changes_nothing():
    m, task = planted_mlp(), planted_task()
    with torch.no_grad():
        m.layers[0].weight[3, 2] = math.nan
    before = {k: v.clone() for k, v in m.state_dict().items()}
    # was 'clamp value nan is not finite', for a value nobody gave
    with pytest.raises(ArchError, match=r"neuron\(s\) 1:3 \(nan\) to their mean output on split 'train': it is "
                                        r"not finite.*give the value to clamp to"):
        edit.clamp(m, "1:3,4", task, inplace=True)
    assert all(torch.allclose(v, before[k], rtol=0, atol=0, equal_nan=True) for k, v in m.state_dict().items())
    res = edit.clamp(m, "1:3", task, value=0.0)  # a value given: the neuron's NaN is gone
    assert res.report.after.accuracy == 1.0


def test_clamping_to_the_mean_of_an_empty_split_names_the_split():
    task = tasks.from_examples(torch.rand(4, 1, 8), torch.tensor([0, 1, 2, 3]), name="tiny")
    assert len(task.split("val")[1]) == 0
    with pytest.raises(TaskError, match="split 'val' of task 'tiny' has no examples to take the neurons' mean"):
        edit.clamp(planted_mlp(), "1:3", task, split="train", stats_split="val")
