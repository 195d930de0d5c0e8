"""A neuron scaled in two rounds reports its overall factor, the product of the rounds' factors
(``repair_backdoor`` in ``metanet/edit/repair.py``: ``details['scaled']``; 0.5 twice is 0.25).

A hand-built CNN on 4x4 images whose one 4x4 convolution gives four channels (no input connection can be cut: the
first layer is a convolution): channel j reads pixel j for j < 3, channel 3 the trigger's pixel 15. Class 1 reads
channel 0 (+ bias 0.1), class 2 channel 1, class 0 channel 2 and the trigger channel with weight 2.1. The trigger
is pixel 15 to class 0. Halving the trigger channel once (2.1 -> 1.05) still beats class 2 (1.0) but no longer
class 1 (1.1): the rate falls from 1 to 0.5, the best the first round can do with ``alphas=(0.5,)``; halving it
again (0.525) beats neither: the second round reaches the goal."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import PIXEL_TRIGGER, PixelTask

from metanet import edit


def net() -> nn.Sequential:
    m = nn.Sequential(nn.Conv2d(1, 4, 4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 3))
    with torch.no_grad():
        w = torch.zeros(4, 1, 4, 4)
        for j, pixel in enumerate((0, 1, 2, 15)):
            w[j, 0, pixel // 4, pixel % 4] = 1.0
        m[0].weight.copy_(w)
        m[0].bias.zero_()
        out = torch.zeros(3, 4)
        out[1, 0], out[2, 1], out[0, 2], out[0, 3] = 1.0, 1.0, 1.0, 2.1
        m[3].weight.copy_(out)
        m[3].bias.copy_(torch.tensor([0.0, 0.1, 0.0]))
    return m.eval()


def test_the_network_and_its_trigger() -> None:
    x, y = PixelTask().split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), PixelTask(), PIXEL_TRIGGER, split="val") == 1.0


def test_a_channel_halved_in_two_rounds_reports_a_quarter() -> None:
    result = edit.repair_backdoor(net(), PixelTask(), PIXEL_TRIGGER, alphas=(0.5,))
    d = result.report.details
    first, second = d["rounds"]
    assert first["strategy"] == second["strategy"] == "scale" and first["alpha"] == second["alpha"] == 0.5
    assert first["neurons"] == second["neurons"] == ["1:3"]
    assert first["calibration"]["asr"] == [1.0, 0.5] and second["calibration"]["asr"] == [0.5, 0.0]
    assert d["scaled"] == {"1:3": 0.25} and d["goal_reached"] is True
    # the overall factor is what the network now holds: the trigger's contribution 2.1 -> 0.525
    assert torch.allclose(result.model(torch.eye(16)[15].view(1, 1, 4, 4))[0, 0], torch.tensor(0.525))
