"""How many weights magnitude pruning zeroes (``metanet/edit/edits.py``, ``_magnitude``): ``round(sparsity * n)``
per layer (not truncated), never the whole layer (its largest connection stays, even when the target rounds up to
every weight), and the report's ``sparsity_before`` is measured on the network before the edit."""

from __future__ import annotations

import torch
from torch import nn

from metanet import edit, tasks

TASK = tasks.get("digits")


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10))


def test_the_count_is_rounded_not_truncated_and_before_is_before():
    result = edit.prune(_mlp(), 0.33, TASK)  # the 60 output weights: 19.8 -> 20 zeroed
    assert int((result.model[3].weight == 0).sum()) == 20
    assert int((result.model[1].weight == 0).sum()) == round(0.33 * 384)
    assert result.report.details["sparsity_before"] == 0.0
    assert abs(result.report.details["sparsity"] - (127 + 20) / 444) < 1e-12


def test_a_target_that_rounds_to_every_weight_keeps_the_largest():
    model = _mlp()
    result = edit.prune(model, 0.995, TASK, regions=[1])  # 0.995 * 60 rounds to 60
    w = result.model[3].weight
    assert int((w != 0).sum()) == 1
    assert float(w.abs().max()) == float(model[3].weight.abs().max())
