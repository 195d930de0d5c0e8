"""What counts as a neuron removed already (``metanet/edit/neurons.py``, ``removed``): zero incoming weights AND a
zero bias. A clamped neuron has zero incoming weights but its bias holds the constant it outputs, so removing it
afterwards is a real change: counted in ``removed``, not listed in ``already_removed``, and on a residual sigmoid
MLP its output really becomes 0 (skipped as "removed already", it kept sending its clamped constant)."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit, tasks
from metanet.nets import build

TASK = tasks.get("digits")


def test_removing_a_clamped_neuron_counts_it_as_removed_now():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10))
    clamped = edit.clamp(model, "1:2=0.5", TASK).model
    result = edit.remove(clamped, "1:2", TASK)
    assert result.report.details == {"removed": 1}
    assert float(result.model[1].bias[2]) == 0.0


def test_a_clamped_residual_sigmoid_neuron_is_really_removed():
    torch.manual_seed(0)
    model = build("mlp:64-12-12-12-10:sigmoid:skip")
    clamped = edit.clamp(model, "2:5=0.9", TASK).model
    result = edit.remove(clamped, "2:5", TASK)
    assert result.report.details == {"removed": 1}
    # the reference: removing the neuron from the unclamped network gives the same function (its output is 0
    # either way, whatever it was before)
    direct = edit.remove(model, "2:5", TASK).model
    x = TASK.split("test")[0][:64].float()
    with torch.no_grad():
        assert torch.allclose(result.model(x), direct(x), atol=1e-5)
