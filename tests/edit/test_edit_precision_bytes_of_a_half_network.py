"""A precision edit's memory on a float16 network (``metanet/edit/edits.py``, ``precision``): a format wider than
the network's dtype (fp32) adds nothing, so ``weight_bytes`` stays ``weight_bytes_before`` (compression 1)."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit, tasks

TASK = tasks.get("digits")


def test_fp32_on_a_float16_network_is_not_larger():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10)).half()
    d = edit.precision(model, "0=fp32,1=int8", TASK).report.details
    assert d["weight_bytes_before"] == 2 * 444
    assert d["weight_bytes"] == 2 * 384 + 60
    assert d["compression"] == d["weight_bytes_before"] / d["weight_bytes"]
