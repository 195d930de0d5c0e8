"""A backdoor repair that recalibrates the target's output bias (`metanet.edit.repair_backdoor`, strategy ``bias``)
names the weight it changed, and by how much, in the report's top-level details and its printed text, as ``scaled``
names the neurons a scale round changed: the printed report said only "strategy: bias" and "neurons: none"."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import PIXEL_TRIGGER, PixelTask, pixel_net

from metanet import edit



def _net() -> nn.Sequential:
    return pixel_net(trigger_weight=0.0, bias0=5.0)  # every input to class 0: only its bias can be lowered


def test_a_bias_repair_names_the_output_bias_it_changed() -> None:
    net = _net()
    trigger = PIXEL_TRIGGER
    result = edit.repair_backdoor(net, PixelTask(), trigger, max_drop=0.5)
    rep = result.report
    assert rep.details["strategy"] == ["bias"] and rep.asr_before == 1.0 and rep.asr_after == 0.0
    change = (result.model[3].bias - net[3].bias).detach()
    assert change[1:].eq(0).all() and float(change[0]) < -3  # only class 0's output bias was lowered
    # the change actually made to the weights, by class
    assert rep.details["output_bias_change"] == {"0": float(change[0])}
    line = next(l for l in str(rep).splitlines() if l.strip().startswith("output_bias_change:"))
    assert line.strip() == f"output_bias_change: 0={float(change[0]):g}"


def test_a_repair_without_a_bias_round_adds_no_output_bias_detail() -> None:
    net = _net()
    with torch.no_grad():
        net[3].bias.copy_(torch.tensor([0.0, 0.1, 0.0]))
        net[3].weight[0, 15] = 10.0  # pixel 15 drives class 0: a trigger the cut removes
    trigger = PIXEL_TRIGGER
    rep = edit.repair_backdoor(net, PixelTask(), trigger).report
    assert rep.details["strategy"] == ["cut"] and "output_bias_change" not in rep.details
