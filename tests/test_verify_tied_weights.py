"""verify() on a network whose layers share one weight Parameter (tied weights, as in an autoencoder or a language
model's tied embedding): the shared weight is used in every layer that holds it. The vectorised pass ran on a meta
copy in which ``.to("meta")`` had untied them, so the second layer silently read uninitialised memory (a wrong accuracy
that changed from call to call; a tied bias too: a raw RuntimeError 'not on the expected device meta')."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet


class TiedTwice(nn.Module):
    """Two Linear layers sharing one weight (and with ``bias``, one bias), then a head."""

    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.a, self.b, self.h = nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 10)
        self.b.weight = self.a.weight
        if bias:
            self.b.bias = self.a.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.h(torch.relu(self.b(torch.relu(self.a(x.flatten(1))))))


def _tied(bias: bool) -> TiedTwice:
    torch.manual_seed(0)
    net = TiedTwice(bias)
    with torch.no_grad():
        net.a.weight.mul_(3.0)  # the second use of the shared weight changes the predictions
    return net


@pytest.mark.parametrize("bias", [False, True], ids=["weight", "weight-and-bias"])
def test_tied_weights_are_used_in_every_layer_that_holds_them(bias):
    net = _tied(bias)
    assert "b.weight" not in dict(net.named_parameters())  # listed once, under the first layer's name
    x, y = metanet.tasks.resolve("digits").split("test")
    with torch.no_grad():
        logits = net(x)
    want_acc = (logits.argmax(1) == y).double().mean().item()
    want_loss = nn.functional.cross_entropy(logits, y).item()
    one = metanet.verify(net, "digits")
    assert one.accuracy == pytest.approx(want_acc, abs=1e-12)
    assert one.loss == pytest.approx(want_loss, rel=1e-5)
    for r in metanet.verify([net, _tied(bias)], "digits"):  # the stacked pass: the same network twice
        assert (r.accuracy, r.loss) == pytest.approx((want_acc, want_loss), rel=1e-5)
    assert net.a.weight is net.b.weight and not net.a.weight.is_meta  # the caller's network is left tied, on the cpu
