"""A backdoor repair whose accuracy drop is exactly its budget is within it (`metanet.edit.repair_backdoor`, report
`goal`): the drop is a difference of two accuracies (1.0 - 0.95 is 0.05 + 4e-17), and the goal is reached within
1e-12 of the budget, so the report's "over" numbers are 0 there too (the line read "accuracy drop +0.0500, 0.0000
over the budget", and the calibration line "reached ... (budget 0.0500, 0.0000 over)")."""

from __future__ import annotations

import torch

from edit_helpers import PIXEL_TRIGGER, pixel_net

from metanet import edit
from metanet.edit import repair


class _Pixels:
    """4x4 images, 3 classes (95 examples): pixel 0 lit is class 1, pixel 1 class 2, pixel 2 class 0. On test only,
    5 more examples of class 0 are written as pixel 15 lit, the trigger's pixel: cutting the trigger loses exactly
    those 5 of 100 there (a drop of 0.05), nothing on val (the calibration split)."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for pixel, label, n in ((0, 1, 32), (1, 2, 32), (2, 0, 31)) + (((15, 0, 5),) if name == "test" else ()):
            x = torch.zeros(n, 16)
            x[:, pixel] = 1.0
            xs.append(x)
            ys += [label] * n
        return torch.cat(xs).view(-1, 1, 4, 4), torch.tensor(ys)





def test_a_drop_on_the_split_exactly_at_the_budget_is_within_it() -> None:
    _, rep = edit.repair_backdoor(pixel_net(), _Pixels(), PIXEL_TRIGGER, max_asr=0.1, max_drop=0.05)
    g = rep.details["goal"]
    assert rep.before.accuracy == 1.0 and rep.after.accuracy == 0.95
    assert g["accuracy_drop_on_split"] > 0.05  # 0.05 + 4e-17: the float difference of the two accuracies
    assert g["drop_over_budget_on_split"] == 0.0
    line = next(l for l in str(rep).splitlines() if l.strip().startswith("goal:"))
    assert line.split("on test:", 1)[1].endswith("accuracy drop +0.0500, within the budget")


def test_a_calibration_drop_exactly_at_the_budget_is_within_it() -> None:
    net, task = pixel_net(), _Pixels()
    x, y = task.split("test")  # 95 of 100 right once the trigger pixel is read by nothing
    with torch.no_grad():
        net[3].weight[0, 15] = 0.0
    g = repair._goal(repair.NetView(net), x, y, 3, PIXEL_TRIGGER, 1.0, 0.1, 0.05, "test")
    assert g["goal_reached"] is True and g["goal"]["accuracy_drop"] > 0.05
    assert g["goal"]["drop_over_budget"] == 0.0
    assert "(budget 0.0500)" in edit.report._goal_line(g["goal"])
    # over the budget by a real margin, still said
    g = repair._goal(repair.NetView(net), x, y, 3, PIXEL_TRIGGER, 1.0, 0.1, 0.04, "test")
    assert g["goal_reached"] is False and abs(g["goal"]["drop_over_budget"] - 0.01) < 1e-9
