"""A known trigger's partial cuts disconnect its MOST important pixels first (``_select`` in
``metanet/edit/repair.py``: pixels ranked by how much the trigger's change of them moves the trigger-excited
neurons, the top 25/50/75% cut).

A hand-built network on 4x4 images, hidden neuron j copying pixel j, except neuron 0 that reads pixel 0 and the
trigger's pixel 15 (weight 10). Class 1: pixel 0 lit (read by neuron 0); class 0: pixel 3 lit; class
2: pixels 3 and 10 lit (read by neuron 10, twice). The trigger is the 2x2 square on pixels 10, 11, 14, 15, to
class 1. Removing or scaling neuron 0 breaks class 1; cutting the whole support also cuts pixel 10, the only pixel
telling class 2 from class 0. Pixel 15 alone, the most important one, cut from the neurons up to neuron 0 reaches
both goals at no cost; pixel 10, the least important, does nothing against the trigger."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import ThreeClassPixelTask, square_net, square_trigger

from metanet import edit

TRIGGER = square_trigger(1)


def net() -> nn.Sequential:
    return square_net()


def test_the_network_and_its_trigger() -> None:
    x, y = ThreeClassPixelTask().split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), ThreeClassPixelTask(), TRIGGER, split="val") == 1.0


def test_the_partial_cut_disconnects_the_most_important_pixel() -> None:
    result = edit.repair_backdoor(net(), ThreeClassPixelTask(), TRIGGER)
    d = result.report.details
    (rd,) = d["rounds"]
    assert rd["strategy"] == "cut" and rd["inputs"] == [15] and "1:0" in rd["neurons"]
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 0.0]} and d["goal_reached"] is True
    w = result.model[1].weight.detach()
    assert torch.all(w[:, 15][[0, 11, 14, 15]] == 0)  # pixel 15 disconnected from the neurons cut
    assert w[0, 0] == 1 and w[10, 10] == 1  # pixel 0 still read by neuron 0, pixel 10 by neuron 10
    assert edit.attack_success_rate(result.model, ThreeClassPixelTask(), TRIGGER, split="val") == 0.0
