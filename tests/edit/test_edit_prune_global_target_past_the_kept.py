"""Global magnitude pruning to a target past what it may remove (``_magnitude`` in ``metanet/edit/edits.py``): every
layer keeps its largest connection, so of 148 weights in two layers at most 146 can go; sparsity 0.99 asks for
round(146.52) = 147. The count is cut to the 146 removable ones, never reaching into the two kept (each layer's
largest), which would leave a layer with one zero connection too many, or none at all."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit, tasks

TASK = tasks.get("digits")  # 1x8x8 images, 10 classes


def _net() -> nn.Sequential:
    """64 -> 2 -> 10, every weight distinct and positive: layer 0 holds 1..128, layer 1 holds 1..20 (largest last)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2), nn.ReLU(), nn.Linear(2, 10))
    with torch.no_grad():
        net[1].weight.copy_(torch.arange(1, 129, dtype=torch.float32).view(2, 64) / 128)
        net[3].weight.copy_(torch.arange(1, 21, dtype=torch.float32).view(10, 2))
        net[1].bias.zero_()
        net[3].bias.zero_()
    return net.eval()


def test_a_global_target_past_the_removable_weights_keeps_each_layers_largest():
    result = edit.prune(_net(), 0.99, TASK, scope="global")
    w0, w1 = result.model[1].weight.detach(), result.model[3].weight.detach()
    assert torch.nonzero(w0).tolist() == [[1, 63]] and float(w0[1, 63]) == 1.0  # 128 / 128, the largest
    assert torch.nonzero(w1).tolist() == [[9, 1]] and float(w1[9, 1]) == 20.0
    d = result.report.details
    assert d["sparsity"] == 146 / 148
    assert d["per_region"] == {"0": 127 / 128, "1": 19 / 20}


def test_the_same_target_per_layer_keeps_each_layers_largest_too():
    result = edit.prune(_net(), 0.99, TASK, scope="layer")
    assert torch.nonzero(result.model[1].weight).tolist() == [[1, 63]]
    assert torch.nonzero(result.model[3].weight).tolist() == [[9, 1]]
    assert result.report.details["per_region"] == {"0": 127 / 128, "1": 19 / 20}
