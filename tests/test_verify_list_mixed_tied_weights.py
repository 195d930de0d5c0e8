"""``verify`` on a list of networks that tie weights differently (one ties two layers' weights, the next does not, or
ties them to another layer) scores each network on its own weights. The list was stacked and run with model 0's
tying: an untied network after a tied one was scored as its tied twin (silently), and a tied one after an untied one
was a raw KeyError; the architecture check compared state dicts, which list a tied weight under every name."""

import pytest
import torch
from torch import nn

import metanet
from metanet.tasks import get


def _net(tie: int | None) -> nn.Sequential:
    """x -> I -> -I -> L3 -> head: L3 is its own (a permutation, None), or the weight of layer 1 (I) or 2 (-I)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 10))
    with torch.no_grad():
        for layer, weight in ((net[1], torch.eye(64)), (net[2], -torch.eye(64)), (net[3], torch.eye(64).roll(1, 0))):
            layer.weight.copy_(weight)
            layer.bias.zero_()
    if tie is not None:
        net[3].weight = net[tie].weight  # the head reads -x (tie 1), +x (tie 2) or -x permuted (untied)
    return net.eval()


def _own(net: nn.Module) -> float:
    x, y = get("digits").split("test")
    with torch.no_grad():
        return (net(x).argmax(1) == y).double().mean().item()


@pytest.mark.parametrize("ties", [(1, None), (None, 1), (1, 2), (2, None)])
def test_networks_tied_differently_are_each_scored_on_their_own_weights(ties) -> None:
    nets = [_net(t) for t in ties]
    own = [_own(n) for n in nets]
    assert own[0] != own[1]  # two networks that score differently
    assert [r.accuracy for r in metanet.verify(nets, "digits")] == own
    assert [metanet.verify(n, "digits").accuracy for n in nets] == own


def test_networks_tied_alike_are_still_verified_together() -> None:
    nets = [_net(2), _net(2)]
    with torch.no_grad():
        nets[1][4].weight.mul_(-1)  # the same tying, other values
    assert [r.accuracy for r in metanet.verify(nets, "digits")] == [_own(n) for n in nets]
