"""The attack success rate that chooses a neuron edit in ``repair_backdoor`` (``_select`` in
``metanet/edit/repair.py``) is measured on the triggered non-target calibration inputs, with each candidate's neuron
mask: the rate at which they go to the target. Measured on the clean inputs instead it reads 10/30 (the clean class-0
examples) whatever neurons are removed, so no candidate reached the goal and the repair changed nothing.

The network is :func:`edit_helpers.pixel_net` behind a 1x1 identity conv, so its first layer reads no pixels
directly: no ``cut`` candidate (which is measured apart) covers for the neuron candidates. That also pins the
ranking: the candidates are the neurons the trigger excites, highest score first (unit 15 alone is enough)."""

from __future__ import annotations

import torch
from torch import nn

from edit_helpers import PIXEL_TRIGGER, PixelTask, pixel_net

from metanet import edit


def _net() -> nn.Sequential:
    """conv 1x1 (identity, one channel: layer 1) -> hidden unit j copies pixel j (layer 2) -> 3 classes; unit 15,
    the trigger pixel's, drives class 0 with weight 10."""
    conv = nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
    return nn.Sequential(conv, nn.ReLU(), *pixel_net()).eval()


def test_removing_the_trigger_unit_is_chosen_by_its_rate_on_triggered_inputs() -> None:
    result = edit.repair_backdoor(_net(), PixelTask(), PIXEL_TRIGGER, alphas=(0.0,))
    rep = result.report
    d = rep.details
    assert d["strategy"] == ["remove"] and d["neurons"] == ["2:15"]
    (rd,) = d["rounds"]
    # on the 20 triggered class-1/2 inputs: all went to class 0 before, none after; clean accuracy untouched
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 0.0]}
    assert rep.asr_before == 1.0 and rep.asr_after == 0.0
    assert d["goal_reached"] is True and d["goal"]["asr"] == 0.0 and d["goal"]["accuracy_drop"] == 0.0
    w = result.model[3].weight.detach()  # pixel_net's hidden Linear: unit 15's incoming row zeroed
    assert bool((w[15] == 0).all()) and bool((w[:15].diagonal() == 1).all())
