"""The attack success rate of the output-bias candidates of ``repair_backdoor`` (``_select`` in
``metanet/edit/repair.py``) is measured on the triggered non-target inputs. :func:`edit_helpers.pixel_net` with output
biases (5, 0.1, 0) and no trigger weight sends every input to class 0: the class-1 inputs win by 5 - 1.1 = 3.9, the
class-2 ones by 5 - 1 = 4. Lowering class 0's bias by 4 + 1e-4 sends none of the 20 triggered inputs there, in one
round. Measured on the clean inputs (with the target as every label) the rate stays at their 10 class-0 examples,
1/3, over the goal: the edit was only reached through the fallback and extra rounds."""

from __future__ import annotations

import pytest

from edit_helpers import PIXEL_TRIGGER, PixelTask, pixel_net

from metanet import edit


def test_lowering_the_target_bias_past_every_margin_reaches_the_goal_in_one_round() -> None:
    result = edit.repair_backdoor(pixel_net(trigger_weight=0.0, bias0=5.0), PixelTask(), PIXEL_TRIGGER, max_drop=0.5)
    d = result.report.details
    (rd,) = d["rounds"]
    assert rd["strategy"] == "bias" and rd["output_bias"]["delta"] == pytest.approx(-4.0001)
    assert rd["calibration"] == {"clean_accuracy": [1 / 3, 1.0], "asr": [1.0, 0.0]}
    assert rd["goal_reached_on_calibration"] is True and rd["within_margin"] is True
    assert float(result.model[3].bias.detach()[0]) == pytest.approx(0.9999)
