"""Clamp values given for some neurons only (``metanet/edit/neurons.py``, ``parse_neuron_values``): a neuron named
without ``=value`` is clamped to its mean output on ``stats_split`` (mean ablation), not to 0."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit, tasks
from metanet.inspect.measure import activations
from metanet.inspect.netview import NetView

TASK = tasks.get("digits")


def test_a_neuron_without_a_value_gets_its_mean_output():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10))
    mean = activations(NetView(model), TASK.split("train")[0].float())[1].mean(0)
    j = int(mean.argmax())  # a neuron whose mean output is far from 0
    k = (j + 1) % 6
    result = edit.clamp(model, f"1:{k}=0.5;1:{j}", TASK)
    values = result.report.params["neurons"]
    assert values[f"1:{k}"] == 0.5
    assert abs(values[f"1:{j}"] - float(mean[j])) < 1e-5 and float(mean[j]) > 0.01
