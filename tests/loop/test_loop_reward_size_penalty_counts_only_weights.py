"""SizePenalty counts only connections: entries of parameters named ``...weight`` (matrices, kernels, scalar
weights). A parameter or buffer of another name is free even when it is a scalar or a matrix per network (a
BatchNorm's ``num_batches_tracked``, a learnt temperature, a positional table): it holds no connection."""

from __future__ import annotations

import torch

from metanet.loop import SizePenalty
from metanet.verify import Report

K = 2


def _reports():
    return [Report(0.5, 1.0, [], 10, 0.0) for _ in range(K)]


def test_only_parameters_named_weight_are_counted():
    fc = torch.zeros(K, 2, 2)
    fc[0] = 1.0  # candidate 0: 4 of 4 connections; candidate 1: 1 of 4
    fc[1, 0, 0] = 1.0
    params = {
        "fc.weight": fc,
        "fc.bias": torch.ones(K, 2),
        "bn.weight": torch.ones(K, 2), "bn.bias": torch.ones(K, 2),
        "bn.running_mean": torch.ones(K, 2), "bn.running_var": torch.ones(K, 2),
        "bn.num_batches_tracked": torch.tensor([7, 0]),  # 0-d per network
        "logit_scale": torch.tensor([0.0, 3.0]),  # 0-d per network, not a weight
        "pos_table": torch.ones(K, 3, 2),  # a matrix per network, not named weight
    }
    assert SizePenalty(1.0)(_reports(), params).tolist() == [-1.0, -0.25]
    # the same network with no extra tensors: the same penalty
    assert SizePenalty(1.0)(_reports(), {"fc.weight": fc}).tolist() == [-1.0, -0.25]
