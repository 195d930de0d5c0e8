"""`Arch.skip_layers` wraps only hidden layers whose widths are equal (a widening one has no residual: h + act(W h)
would add tensors of two sizes), and an mlp fits only inputs of exactly its input features, not more."""

from __future__ import annotations

import torch

from metanet.nets import Arch, build


def test_a_widening_or_narrowing_hidden_layer_gets_no_skip():
    a = Arch.parse("mlp:10-8-16-16-4-4-2:relu:skip")
    assert a.skip_layers() == (2, 4)  # 16->16 and 4->4; not 8->16 (widening) nor 16->4 (narrowing)
    net = build(a, seed=0)
    assert net(torch.ones(3, 10)).shape == (3, 2)


def test_skip_layers_add_their_input_to_the_activation():
    net = build("mlp:2-3-3-1:relu:skip", seed=0)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    l0, l1, l2 = net.layers
    h = torch.relu(l0(x))
    assert torch.equal(net(x), l2(h + torch.relu(l1(h))))


def test_an_mlp_fits_exactly_its_input_features():
    a = Arch.parse("mlp:784-10")
    assert a.fits((1, 28, 28)) and a.fits((784,))
    assert not a.fits((1, 28, 29)) and not a.fits((785,)) and not a.fits((3, 28, 28))
