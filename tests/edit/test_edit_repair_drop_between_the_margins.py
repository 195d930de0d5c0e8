"""An edit whose accuracy drop is over three quarters of the budget is not taken (``_select`` in
``metanet/edit/repair.py``: the goal within the margins, else within the whole rate goal and 0.75 of the drop
budget, else the best trade-off within HALF the drop budget that lowers the rate). Here the only edits that defeat
the trigger cost one clean example in 30 (0.033), between 0.75 and 1 times the budget 0.04: the round changes
nothing and the goal is reported missed.

:func:`edit_helpers.pixel_net` (hidden neuron j copies pixel j; class 0 reads pixel 2 and the trigger's pixel 15
with weight 10) on a task where one class-0 example looks like class 2 (pixel 1 lit) and is told apart by a
faint pixel 15 (0.5): removing or cutting neuron 15 loses it (no other pixel predicts pixel 15), scaling the
neuron by 0.25 or 0.5 leaves the trigger working."""

from __future__ import annotations

import pytest
import torch

from edit_helpers import PIXEL_TRIGGER, pixel_net

from metanet import edit


class Task:
    """4x4 images, 3 classes (every split): 10 class 1 (pixel 0), 10 class 2 (pixel 1), 9 class 0 (pixel 2) and one
    class 0 with pixel 1 and a faint pixel 15 lit."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels-faint-15"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros(30, 16)
        y = torch.tensor([1, 2, 0]).repeat_interleave(10)
        x[:10, 0] = 1.0
        x[10:20, 1] = 1.0
        x[20:29, 2] = 1.0
        x[29, 1], x[29, 15] = 1.0, 0.5
        return x.view(-1, 1, 4, 4), y


def test_the_network_and_its_trigger() -> None:
    x, y = Task().split("val")
    assert torch.equal(pixel_net()(x).argmax(1), y)
    assert edit.attack_success_rate(pixel_net(), Task(), PIXEL_TRIGGER, split="val") == 1.0


def test_a_drop_over_three_quarters_of_the_budget_is_not_taken() -> None:
    result = edit.repair_backdoor(pixel_net(), Task(), PIXEL_TRIGGER, max_drop=0.04)
    d = result.report.details
    (rd,) = d["rounds"]
    assert rd["strategy"] == "none" and rd["neurons"] == [] and rd["goal_reached_on_calibration"] is False
    assert rd["calibration"] == {"clean_accuracy": [1.0, 1.0], "asr": [1.0, 1.0]}
    assert d["goal_reached"] is False and d["goal"]["asr"] == 1.0
    assert all(torch.equal(a, b) for a, b in zip(pixel_net().state_dict().values(), result.model.state_dict().values()))


def test_the_same_drop_within_three_quarters_of_the_budget_is_taken() -> None:
    result = edit.repair_backdoor(pixel_net(), Task(), PIXEL_TRIGGER, max_drop=0.05)
    d = result.report.details
    rd = d["rounds"][0]
    assert rd["strategy"] != "none" and rd["goal_reached_on_calibration"] is True
    assert rd["calibration"]["clean_accuracy"] == pytest.approx([1.0, 29 / 30]) and rd["calibration"]["asr"] == [1.0, 0.0]
    assert d["goal_reached"] is True
