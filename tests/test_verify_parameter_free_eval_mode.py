"""`metanet.verify` of a network without parameters or buffers (nothing to stack, run as it is): in eval mode like
every other network, its dropout off, and the caller's module left in the mode it was in."""

from __future__ import annotations

import torch
from torch import nn

import metanet
from metanet.tasks import from_examples


def test_a_parameter_free_network_in_train_mode_is_scored_with_dropout_off():
    y = torch.arange(60) % 3
    x = nn.functional.one_hot(y, 3).float()  # the identity classifies every example right
    task = from_examples(x, y, val_fraction=0, test_fraction=0)
    net = nn.Sequential(nn.Dropout(0.9)).train()  # in train mode: most rows all zeros, predicted class 0
    report = metanet.verify(net, task, split="train")
    assert report.accuracy == 1.0 and report.per_class == [1.0, 1.0, 1.0]
    assert net.training  # the caller's mode given back
