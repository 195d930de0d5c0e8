"""A factor that cannot be written exactly into a layer (tanh neurons writing into a residual stream) is measured as
what it will be applied as: a removal (``_select`` in ``metanet/edit/repair.py``). The repair's calibration numbers
are then those of the network it returns, never those of a scaling it could not apply.

A hand-built ``mlp:16-4-4-3:tanh:skip`` on 4x4 images, its residual layer zero (it adds tanh(0) = 0): hidden
neuron j < 3 is tanh(pixel j), neuron 3 is tanh(0.5 * sum of pixels - 0.5). Class 1 reads 1.5 * neuron 0 (+ bias
0.1), class 2 1.5 * neuron 1, class 0 2 * neuron 3. Class-0 inputs light pixels 2 and 5 (neuron 3 at 0.46), the
other classes one pixel (neuron 3 at 0). The trigger stamps the whole image (no pixel can be cut) to class 0.
Halving neuron 3 would defeat the trigger at no cost, but it can only be removed, which loses every class-0
input: with ``alphas=(0.5,)`` no edit is within the budget and the network is left as it is."""

from __future__ import annotations

import torch

from metanet import edit
from metanet.nets import build

TRIGGER = {"kind": "square", "size": 4, "location": [0, 0], "pattern": [[1] * 4] * 4, "target": 0}


class Task:
    """4x4 images, 3 classes, 10 each (every split): class 1 pixel 0, class 2 pixel 1, class 0 pixels 2 and 5."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels-sum"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros(30, 16)
        y = torch.tensor([1, 2, 0]).repeat_interleave(10)
        x[:10, 0] = 1.0
        x[10:20, 1] = 1.0
        x[20:, 2] = x[20:, 5] = 1.0
        return x.view(-1, 1, 4, 4), y


def net():
    m = build("mlp:16-4-4-3:tanh:skip", seed=0)
    with torch.no_grad():
        w0 = torch.zeros(4, 16)
        w0[0, 0] = w0[1, 1] = w0[2, 2] = 1.0
        w0[3] = 0.5
        m.layers[0].weight.copy_(w0)
        m.layers[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, -0.5]))
        m.layers[1].weight.zero_()
        m.layers[1].bias.zero_()
        w2 = torch.zeros(3, 4)
        w2[1, 0], w2[2, 1], w2[0, 3] = 1.5, 1.5, 2.0
        m.layers[2].weight.copy_(w2)
        m.layers[2].bias.copy_(torch.tensor([0.0, 0.1, 0.0]))
    return m.eval()


def test_the_network_and_its_trigger() -> None:
    x, y = Task().split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), Task(), TRIGGER, split="val") == 1.0


def test_a_factor_the_layer_cannot_take_is_measured_as_a_removal() -> None:
    result = edit.repair_backdoor(net(), Task(), TRIGGER, alphas=(0.5,))
    d = result.report.details
    (rd,) = d["rounds"]
    assert rd["strategy"] == "none" and rd["neurons"] == [] and rd["goal_reached_on_calibration"] is False
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 1.0]}
    assert d["goal_reached"] is False and d["scaled"] == {}
    assert all(torch.equal(a, b) for a, b in zip(net().state_dict().values(), result.model.state_dict().values()))
