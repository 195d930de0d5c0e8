"""refine runs its copy in eval mode whatever the caller's mode: a BatchNorm's running statistics are buffers refine
keeps as they are (they were updated by every training-mode forward of a caller's network left in train mode, and
dropout was on while it was refined)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.loop import refine


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_batchnorm_statistics_of_a_training_mode_network_are_kept(method) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2)).train()
    x = torch.randn(40, 4)
    y = (x[:, 0] > 0).long()
    res = refine(net, (x, y), method=method, steps=2, population=2, batch_size=16, verify_on=None)
    bn = res.model[1]
    assert not res.model.training and net.training  # returned in eval mode, the caller's left as it was
    assert torch.equal(bn.running_mean, net[1].running_mean) and torch.equal(bn.running_var, net[1].running_var)
    assert bn.num_batches_tracked.item() == 0
    assert not torch.equal(res.model[0].weight, net[0].weight)  # it was refined
