"""Necessity pruning's bookkeeping when every removable connection is needed (``_necessity`` in
``metanet/edit/edits.py``): 6 inputs -> 6 hidden -> 6 classes, both weight layers the identity, each class one
input. Of the 72 weights 60 are 0 already and each layer keeps its largest (the [0, 0] one): the 10 other diagonal
weights are the removable ones, and removing any of them sends its class's inputs to class 0. Every block tried is
refused and bisected down to single weights (each measured necessary once); the target then forces the least
necessary ones anyway, two at a time (2% of the 72 weights rounded up), each counted."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit

K = 6


class Diagonal:
    """Input i (one-hot) is class i; 5 of each, in every split."""

    num_classes = K
    input_shape = (K,)
    name = "diagonal"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.eye(K).repeat(5, 1), torch.arange(K).repeat(5)


def _net() -> nn.Sequential:
    net = nn.Sequential(nn.Linear(K, K, bias=False), nn.ReLU(), nn.Linear(K, K, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(K))
        net[2].weight.copy_(torch.eye(K))
    return net.eval()


def test_every_removal_refused_then_all_ten_forced_and_counted():
    result = edit.prune(_net(), 70 / 72, Diagonal(), method="necessity")
    d = result.report.details
    # blocks of 3, 3, 2, 2 refused and bisected: 14 measurements, the 10 weights each measured necessary once
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (14, 0, 10, 10)
    assert d["calibration_accuracy"] == [1.0, 1 / 6] and d["sparsity_before"] == 60 / 72 and d["sparsity"] == 70 / 72
    for layer in (0, 2):
        assert torch.equal(result.model[layer].weight, torch.diag(torch.tensor([1.0] + [0.0] * (K - 1))))


def test_a_lower_target_forces_only_what_it_needs():
    d = edit.prune(_net(), 64 / 72, Diagonal(), method="necessity").report.details
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (14, 0, 10, 4)
    assert d["sparsity"] == 64 / 72 and d["calibration_accuracy"] == [1.0, 4 / 6]
