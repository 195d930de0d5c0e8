"""`metanet.verify` of a network keeping, as a plain attribute, a tensor computed with gradients from its parameters
(not a graph leaf): torch refuses to deep-copy it, and verify's copy for the stacked pass raised torch's raw
RuntimeError; now an ArchError saying what to change."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))


def test_a_non_leaf_tensor_attribute_is_an_arch_error_naming_the_fix():
    net = _net()
    net.cache = net[1].weight * 2  # computed with gradients: not a leaf
    with pytest.raises(ArchError, match=r"^cannot copy this Sequential to run it: an attribute holds a tensor "
                                        r"computed with gradients \(not a graph leaf\); compute it in forward"):
        metanet.verify(net, "digits")


def test_the_same_tensor_kept_detached_is_verified():
    net = _net()
    with torch.no_grad():
        net.cache = net[1].weight * 2
    x, y = metanet.tasks.resolve("digits").split("test")
    with torch.no_grad():
        want = (net.eval()(x).argmax(1) == y).double().mean().item()
    assert metanet.verify(net, "digits").accuracy == pytest.approx(want, abs=1e-12)
