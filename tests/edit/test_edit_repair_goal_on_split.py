"""A backdoor repair's goal on the reported split (`metanet.edit.repair_backdoor`, report `goal`): the held-out
accuracy drop is measured against the budget as the held-out attack success rate is against its goal, so a
repair within its goals on the calibration split but over the accuracy budget on the reported split says so
(the line read "on test: attack success rate 0.0000, within the goal" beside a drop over the budget)."""

from __future__ import annotations

import math

import torch

from edit_helpers import PIXEL_TRIGGER, pixel_net

from metanet import edit


class _Pixels:
    """4x4 images, 3 classes: pixel 0 lit is class 1, pixel 1 class 2, pixel 2 class 0. On test only, class 0 is
    also written as pixel 15 lit, the backdoor trigger's pixel: cutting the trigger costs nothing on val (the
    calibration split) and those test examples."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for pixel, label in ((0, 1), (1, 2), (2, 0)):
            for _ in range(10):
                x = torch.zeros(16)
                x[pixel] = 1.0
                xs.append(x)
                ys.append(label)
        if name == "test":
            for _ in range(10):
                x = torch.zeros(16)
                x[15] = 1.0
                xs.append(x)
                ys.append(0)
        return torch.stack(xs).view(-1, 1, 4, 4), torch.tensor(ys)





def test_the_goal_states_the_accuracy_drop_on_the_reported_split_against_the_budget() -> None:
    net, task = pixel_net(), _Pixels()
    _, rep = edit.repair_backdoor(net, task, PIXEL_TRIGGER, max_asr=0.1, max_drop=0.01)
    assert rep.asr_before == 1.0 and rep.asr_after == 0.0
    g = rep.details["goal"]
    assert g["reached"] is True and g["accuracy_drop"] == 0.0  # on val, the calibration split
    drop = rep.before.accuracy - rep.after.accuracy  # the 10 test examples written with pixel 15 now go wrong
    assert math.isclose(drop, 0.25)
    assert math.isclose(g["accuracy_drop_on_split"], drop)
    assert math.isclose(g["drop_over_budget_on_split"], drop - 0.01)
    line = next(l for l in str(rep).splitlines() if l.strip().startswith("goal:"))
    on_test = line.split("on test:", 1)[1]
    assert "accuracy drop +0.2500" in on_test and "0.2400 over the budget" in on_test


def test_a_drop_within_the_budget_on_the_split_says_so() -> None:
    net, task = pixel_net(), _Pixels()
    _, rep = edit.repair_backdoor(net, task, PIXEL_TRIGGER, max_asr=0.1, max_drop=0.5)
    g = rep.details["goal"]
    assert math.isclose(g["accuracy_drop_on_split"], 0.25) and g["drop_over_budget_on_split"] == 0.0
    line = next(l for l in str(rep).splitlines() if l.strip().startswith("goal:"))
    assert "accuracy drop +0.2500, within the budget" in line.split("on test:", 1)[1]
