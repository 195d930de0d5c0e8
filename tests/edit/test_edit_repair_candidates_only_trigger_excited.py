"""Only trigger-excited neurons (trigger score > 0) are candidates for scaling or removal (``_select`` in
``metanet/edit/repair.py``); a neuron the trigger leaves exactly as it is (score 0) is never one, even when
scaling it would lower the target's output.

A hand-built CNN on 4x4 images (one 4x4 convolution, so no input connection can be cut): channel j reads pixel j
for j < 3, channel 3 the trigger's pixel 15, channel 4 is a constant 0.5 (bias only). Class 1 reads channel 0
(+ bias 0.1), class 2 channel 1, class 0 channel 2, the trigger channel (weight 2.1) and the constant channel
(offset by a bias of -0.5). Class-0 inputs light pixels 0 and 1 too (at 0.6), so channels 0-2 score below 0
and only the trigger channel is excited. With ``alphas=(0.5,)`` the trigger channel is halved in two rounds
(2.1 -> 1.05 beats class 2's 1.0 but not class 1's 1.1; 0.525 beats neither); halving the constant channel as well
would have reached the goal in one round."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import PIXEL_TRIGGER

from metanet import edit


class Task:
    """4x4 images, 3 classes, 10 each (every split): class 1 pixel 0, class 2 pixel 1, class 0 pixel 2 and pixels
    0 and 1 at 0.6."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels-0-1-2"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros(30, 16)
        y = torch.tensor([1, 2, 0]).repeat_interleave(10)
        x[:10, 0] = 1.0
        x[10:20, 1] = 1.0
        x[20:, 0], x[20:, 1], x[20:, 2] = 0.6, 0.6, 1.0
        return x.view(-1, 1, 4, 4), y


def net() -> nn.Sequential:
    m = nn.Sequential(nn.Conv2d(1, 5, 4), nn.ReLU(), nn.Flatten(), nn.Linear(5, 3))
    with torch.no_grad():
        w = torch.zeros(5, 1, 4, 4)
        for j, pixel in enumerate((0, 1, 2, 15)):
            w[j, 0, pixel // 4, pixel % 4] = 1.0
        m[0].weight.copy_(w)
        m[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5]))
        out = torch.zeros(3, 5)
        out[1, 0], out[2, 1], out[0, 2], out[0, 3], out[0, 4] = 1.0, 1.0, 1.0, 2.1, 1.0
        m[3].weight.copy_(out)
        m[3].bias.copy_(torch.tensor([-0.5, 0.1, 0.0]))
    return m.eval()


def test_the_network_and_its_trigger() -> None:
    x, y = Task().split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), Task(), PIXEL_TRIGGER, split="val") == 1.0


def test_a_neuron_the_trigger_does_not_move_is_no_candidate() -> None:
    result = edit.repair_backdoor(net(), Task(), PIXEL_TRIGGER, alphas=(0.5,), max_fraction=1.0)
    d = result.report.details
    first, second = d["rounds"]
    assert first["neurons"] == second["neurons"] == ["1:3"] and first["strategy"] == second["strategy"] == "scale"
    assert first["calibration"]["asr"] == [1.0, 0.5] and second["calibration"]["asr"] == [0.5, 0.0]
    assert d["scaled"] == {"1:3": 0.25} and d["goal_reached"] is True
    # the constant channel still sends its 0.5
    assert torch.allclose(result.model(torch.zeros(1, 1, 4, 4))[0], torch.tensor([0.0, 0.1, 0.0]))
