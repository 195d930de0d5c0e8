"""generate(arch=nn.Sequential(...)) of exactly a metanet CNN's layers names the equivalent arch string, as it did for
an MLP's (it said only "give an architecture string such as ..."). The Sequential is refused, not written: the writer
writes metanet's modules, and generate returns one of them, not the caller's own layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.nets import build


def _cnn(padding: int = 1, kernel: int = 3, act: type[nn.Module] = nn.ReLU, bias: bool = True) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 8, kernel, stride=2, padding=padding, bias=bias), act(),
                         nn.Conv2d(8, 8, kernel, stride=2, padding=padding, bias=bias), act(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10, bias=bias))


def test_a_hand_built_metanet_cnn_is_named_by_its_arch_string():
    with pytest.raises(ArchError, match=r"not a Sequential; give an architecture: the same layers are "
                                        r"arch='cnn:1-8-8-10:relu:k3:s2' \(a metanet CNN"):
        metanet.generate("digits", arch=_cnn())
    with pytest.raises(ArchError, match=r"arch='cnn:1-8-8-10:tanh:k5:s2:nobias'"):
        metanet.generate("digits", arch=_cnn(padding=2, kernel=5, act=nn.Tanh, bias=False))


def test_the_named_cnn_computes_what_the_sequential_does():
    seq, net = _cnn(), build("cnn:1-8-8-10:relu:k3:s2", seed=3)
    with torch.no_grad():
        for i, layer in zip((0, 2, 6), net.layers):
            seq[i].weight.copy_(layer.weight)
            seq[i].bias.copy_(layer.bias)
    x = torch.rand(4, 1, 8, 8)
    assert torch.allclose(seq(x), net(x), atol=1e-6)


@pytest.mark.parametrize("seq", [
    _cnn(padding=0),  # no padding: not a metanet CNN, whose padding is kernel // 2
    nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1),
                  nn.Flatten(), nn.Linear(8, 10)),
    nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                  nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10)),  # a hidden Linear
])
def test_other_conv_sequentials_get_no_wrong_arch(seq):
    with pytest.raises(ArchError, match=r"not a Sequential; give an architecture string such as ") as info:
        metanet.generate("digits", arch=seq)
    assert "the same layers" not in str(info.value)
