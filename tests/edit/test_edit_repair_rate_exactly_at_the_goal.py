"""A known trigger whose attack success rate is exactly the goal already fails (``repair_backdoor``: the goal is a
rate <= ``max_asr``, ``_select`` in ``metanet/edit/repair.py``): nothing is repaired. :func:`edit_helpers.pixel_net`
with trigger weight 1.05: a triggered class-2 input scores (1.05, 0.1, 1), class 0 wins; a triggered class-1 input
(1.05, 1.1, 0) stays class 1. So 10 of the 20 triggered non-target inputs go to the target: a rate of 0.5."""

from __future__ import annotations

import torch

from edit_helpers import PIXEL_TRIGGER, PixelTask, pixel_net

from metanet import edit


def test_a_rate_exactly_at_the_goal_is_left_alone() -> None:
    net = pixel_net(trigger_weight=1.05)
    result = edit.repair_backdoor(net, PixelTask(), PIXEL_TRIGGER, max_asr=0.5)
    d = result.report.details
    assert result.report.asr_before == 0.5
    (rd,) = d["rounds"]
    assert rd["strategy"] == "none" and rd["calibration"]["asr"] == [0.5, 0.5]
    assert d["backdoor_found"] is False and d["strategy"] == [] and d["goal_reached"] is True
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), result.model.state_dict().values()))


def test_a_rate_just_over_the_goal_is_repaired() -> None:
    result = edit.repair_backdoor(pixel_net(trigger_weight=1.05), PixelTask(), PIXEL_TRIGGER, max_asr=0.45)
    d = result.report.details
    assert d["backdoor_found"] is True and d["strategy"] != [] and result.report.asr_after <= 0.45
