"""Only the trigger's WHOLE support cut from every neuron counts as the exact edit (``_select`` in
``metanet/edit/repair.py``: ``exact`` needs every neuron and every pixel). A cut of part of the support from every
neuron is one measured trade-off among the others, never preferred over them just for being a cut.

A hand-built network on 4x4 images, hidden neuron j copying pixel j. Class 1: pixel 0 lit; class 0: pixel 3 lit;
class 2: pixels 3 and 10 lit. Outputs: class 1 reads neuron 0 (+ bias 0.1), class 2 reads neuron 10 twice, class 0
reads neuron 3 and the trigger's neuron 15 (weight 10). The trigger is the 2x2 square on pixels 10, 11, 14, 15, to
class 0. Removing neuron 15 reaches both goals at no accuracy cost; so does cutting pixels 11, 14, 15 (clean inputs
never light them) from every neuron. Cutting the whole support also cuts pixel 10, the only pixel telling class 2
from class 0, which no other pixel predicts: a third of the clean inputs go wrong, far over the budget."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import ThreeClassPixelTask, square_trigger

from metanet import edit

TRIGGER = square_trigger(0)


def net() -> nn.Sequential:
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        m[1].weight.copy_(torch.eye(16))
        m[1].bias.zero_()
        w = torch.zeros(3, 16)
        w[1, 0], w[2, 10], w[0, 3], w[0, 15] = 1.0, 2.0, 1.0, 10.0
        m[3].weight.copy_(w)
        m[3].bias.copy_(torch.tensor([0.0, 0.1, 0.0]))
    return m.eval()


def test_the_network_and_its_trigger() -> None:
    x, y = ThreeClassPixelTask().split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), ThreeClassPixelTask(), TRIGGER, split="val") == 1.0


def test_a_partial_cut_from_every_neuron_is_not_preferred_as_exact() -> None:
    result = edit.repair_backdoor(net(), ThreeClassPixelTask(), TRIGGER)
    d = result.report.details
    (rd,) = d["rounds"]
    # the first edit of the smallest share of the budgets (removing neuron 15), not the cut of pixels 11, 14, 15
    assert rd["strategy"] == "remove" and rd["neurons"] == ["1:15"] and "inputs" not in rd
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 0.0]}
    assert d["scaled"] == {"1:15": 0.0} and d["goal_reached"] is True
    # neuron 15 removed (its weights zeroed), every other neuron still reads its own pixel: no input was cut
    w = result.model[1].weight.detach()
    assert torch.equal(w[:15], torch.eye(16)[:15]) and torch.all(w[15] == 0)
    assert torch.all(result.model[3].weight[:, 15] == 0)
