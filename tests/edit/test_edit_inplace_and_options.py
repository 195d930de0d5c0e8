"""Edits in place (all or nothing, the caller's train/eval mode kept), neuron ranges, necessity pruning's options."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import planted_mlp, planted_task
from torch import nn

from metanet import edit, tasks
from metanet.errors import ArchError, TaskError
from metanet.verify import verify


def _dropout_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 4))


def test_a_refused_inplace_edit_changes_nothing_not_even_the_mode():
    net = _dropout_net().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ArchError, match="does not exist"):
        edit.remove(net, "1:99", planted_task(), inplace=True)
    assert net.training and all(m.training for m in net.modules())  # dropout was switched off
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_an_inplace_edit_writes_the_weights_and_keeps_the_callers_mode():
    net = _dropout_net().train()
    w = net[1].weight
    model, rep = edit.remove(net, "1:2", planted_task(), inplace=True)
    assert model is net and net[1].weight is w  # the same module and parameters, edited
    assert net.training and net[3].training  # a model being trained keeps its dropout
    assert (net[1].weight[2] == 0).all() and (net[4].weight[:, 2] == 0).all()
    # the report's "after" is the network the caller now holds
    assert verify(net, planted_task(), "test").accuracy == rep.after.accuracy
    assert net.training


@pytest.mark.parametrize("spec", ["1:5-3,7", "1:5-3"])
def test_a_backwards_neuron_range_is_refused(spec):
    # range(5, 4) is empty: '1:5-3,7' removed neuron 7 alone, silently
    with pytest.raises(ArchError, match=r"'5-3' runs backwards; write it as 3-5"):
        edit.remove(planted_mlp(), spec, planted_task())


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_necessity_pruning_refuses_a_bad_max_examples(n):
    # 0 calibrated on no examples: accuracy 0 >= 0, so every removal was accepted as free
    with pytest.raises(ArchError, match="max_examples"):
        edit.prune(planted_mlp(), 0.5, planted_task(), method="necessity", max_examples=n)


def test_necessity_pruning_refuses_an_empty_calibration_split():
    t = planted_task()
    x, y = t.split("train")
    no_val = tasks.from_examples(x, y, val_fraction=0.0)
    assert len(no_val.split("val")[1]) == 0
    with pytest.raises(TaskError, match="no examples to calibrate"):
        edit.prune(planted_mlp(), 0.5, no_val, method="necessity")


def test_neurons_given_as_an_n_by_2_array_or_tensor():
    # the rows of torch.nonzero(mask) / np.argwhere: "not a (layer, index) pair" before
    import numpy as np

    task = planted_task()
    want = edit.remove(planted_mlp(), [(1, 2), (1, 5)], task)
    for given in (torch.tensor([[1, 2], [1, 5]]), np.array([[1, 2], [1, 5]])):
        got = edit.remove(planted_mlp(), given, task)
        assert got.report.params == want.report.params
        assert all(torch.equal(a, b) for a, b in zip(got.model.state_dict().values(), want.model.state_dict().values()))
    with pytest.raises(ArchError, match="is not a \\(layer, index\\) pair"):
        edit.remove(planted_mlp(), torch.tensor([[1, 2, 3]]), task)
