"""verify's error for inputs a network cannot read says "1 input channel" / "1 input feature" (it said "1 input
channels" and "1 input features"), and keeps the plural for more."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.nets import build


def _examples(*shape: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(40, *shape, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 2


@pytest.mark.parametrize("arch, what", [("cnn:1-4-2:relu:k3:s1", "1 input channel,"),
                                        ("cnn:2-4-2:relu:k3:s1", "2 input channels,"),
                                        ("mlp:1-4-2:relu", "1 input feature,"),
                                        ("mlp:2-4-2:relu", "2 input features,")])
def test_the_number_of_inputs_a_network_expects_is_singular_for_one(arch, what):
    with pytest.raises(ArchError, match=f"^network {arch} expects {what} but .* shape \\(3, 8, 8\\)$"):
        metanet.verify(build(arch, seed=0), _examples(3, 8, 8))


def test_a_sequential_cnn_of_one_input_channel_says_channel():
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 2))
    with pytest.raises(ArchError, match=r"Conv2d 1->2 expects 1 input channel, but .* shape \(3, 8, 8\)$"):
        metanet.verify(seq, _examples(3, 8, 8))
