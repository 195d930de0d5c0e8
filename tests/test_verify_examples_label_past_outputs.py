"""`metanet.verify` on labelled examples ``(x, y)`` whose largest label is the network's number of outputs (labels
0..2 for 2 outputs, one past the last): an ArchError naming both, not a raw index error from scoring."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def test_a_label_one_past_the_last_output_is_refused_by_name():
    x = torch.rand(30, 3, generator=torch.Generator().manual_seed(0))
    y = torch.arange(30) % 3
    with pytest.raises(ArchError, match=r"network outputs 2 classes per example \(labels 0\.\.1\), but .* has labels "
                                        r"up to 2"):
        metanet.verify(nn.Linear(3, 2), (x, y))
    assert metanet.verify(nn.Linear(3, 3), (x, y)).n > 0  # as many outputs as labels: scored
