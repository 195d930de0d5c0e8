"""A cut's imputation never writes onto inputs no neuron reads (``_select`` in ``metanet/edit/repair.py``: the
imputation of the cut pixels is fitted on the other pixels but the dead ones, e.g. pixels an earlier round cut):
predicting a cut pixel from them would connect them again.

The network of ``test_edit_repair_partial_cut_takes_the_most_important_pixels`` with pixel 12 read by no neuron
(neuron 12's weight on it is 0) and, in half the class-1 examples, pixels 12 and 15 lit at 0.2: pixel 12 predicts
the trigger pixel 15 exactly. The repair cuts pixels 11, 14 and 15 from the trigger-excited neurons (neuron 0
among them) at no cost, and pixel 12 stays read by no neuron."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import ThreeClassPixelTask, square_net, square_trigger

from metanet import edit

TRIGGER = square_trigger(1)


def net() -> nn.Sequential:
    return square_net(unread=(12,))


def test_the_network_and_its_trigger() -> None:
    x, y = ThreeClassPixelTask(faint=True).split("val")
    assert torch.equal(net()(x).argmax(1), y)
    assert edit.attack_success_rate(net(), ThreeClassPixelTask(faint=True), TRIGGER, split="val") == 1.0


def test_an_input_no_neuron_reads_stays_unread_after_a_cut() -> None:
    result = edit.repair_backdoor(net(), ThreeClassPixelTask(faint=True), TRIGGER)
    (rd,) = result.report.details["rounds"]
    assert rd["strategy"] == "cut" and 15 in rd["inputs"] and "1:0" in rd["neurons"]
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 0.0]}
    w = result.model[1].weight.detach()
    assert torch.all(w[:, 12] == 0)
    assert torch.all(w[:, rd["inputs"]] == 0)
