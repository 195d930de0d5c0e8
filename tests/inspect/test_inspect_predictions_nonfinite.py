"""``metanet.inspect.measure.predictions`` (repair's attack success rate) on logits that are not finite: such an
example has no prediction (-1), so it hits no attack target (argmax read +inf as a prediction and NaN as class 0),
with masks or without."""

from __future__ import annotations

import math

import torch
from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import measure
from metanet.inspect.netview import NetView
from metanet.verify import NO_PREDICTION


def test_nan_logits_have_no_prediction():
    m = planted_mlp()
    x, y = planted_task().split("test")
    assert (measure.predictions(NetView(m), x) == y).float().mean() > 0.9  # finite logits: the planted classes
    with torch.no_grad():
        m.layers[1].weight[0, 5] = math.nan  # NaN in class 0's logit on every input
    assert (measure.predictions(NetView(m), x) == NO_PREDICTION).all()


def test_logits_that_overflow_have_no_prediction_and_a_mask_that_removes_the_overflow_gives_one_back():
    m = planted_mlp()
    x, y = planted_task().split("test")
    clean = measure.predictions(NetView(m), x)
    with torch.no_grad():  # neuron 5 (class 1's only carrier) fires ~1e29 on class 1 only: its logit overflows
        m.layers[0].weight[5, 1], m.layers[0].bias[5] = 1e30, -5e29
        m.layers[1].weight[1, 5] = 1e10
    masks = {1: torch.ones(2, 9)}
    masks[1][1, 5] = 0.0  # variant 1 removes neuron 5
    both = measure.predictions(NetView(m), x, masks)
    ones = y == 1
    assert (both[0][ones] == NO_PREDICTION).all()  # +inf logits: argmax said class 1
    assert torch.equal(both[0][~ones], clean[~ones])
    assert (both[1] != NO_PREDICTION).all() and (both[1][ones] != 1).all()  # finite again, class 1 has no carrier
