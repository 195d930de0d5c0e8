"""Scaling by 0 through a neuron's incoming weights (``metanet/edit/neurons.py``, ``scale_route``): on a residual
MLP a neuron's outputs are read by more than one layer, so a scaling is written into its incoming weights and bias,
which is exact for relu and every factor >= 0, 0 included (0 silences the neuron as removing it does)."""

from __future__ import annotations

import torch

from metanet import edit, tasks
from metanet.nets import build

TASK = tasks.get("digits")


def test_a_residual_relu_neuron_scaled_by_0_is_removed():
    torch.manual_seed(0)
    model = build("mlp:64-12-12-10:relu:skip")
    scaled = edit.scale(model, "1:0-5", 0.0, TASK)
    assert scaled.report.details == {"via": "incoming"}
    removed = edit.remove(model, "1:0-5", TASK).model
    x = TASK.split("test")[0][:64].float()
    with torch.no_grad():
        assert torch.allclose(scaled.model(x), removed(x), atol=1e-6)
        assert not torch.allclose(scaled.model(x), model(x), atol=1e-6)  # the neuron did something before
    assert scaled.report.after.accuracy == edit.remove(model, "1:0-5", TASK).report.after.accuracy
