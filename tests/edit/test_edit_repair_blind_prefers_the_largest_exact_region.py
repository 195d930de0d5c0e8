"""Blind repair cuts the largest exact region within the goals (``_select`` in ``metanet/edit/repair.py``): a
reconstruction tends to find only part of a trigger, so among the trigger's candidate regions disconnected from
every neuron (all exact, all within the goals) the largest is preferred, not the smallest.

:func:`edit_helpers.pixel_net`'s trigger is pixel 15 (the bottom-right corner of a 4x4 image). The reconstruction is
fixed to a mask on that one pixel, so the candidate regions are the pixel itself (its box), the 2x2 corner (the
mask grown by one) and the 3x3 corner (grown by two). The clean inputs light pixels 0-2 only: cutting any of the
three regions costs no accuracy and leaves the trigger no effect, so all three meet both goals."""

from __future__ import annotations

import torch

from edit_helpers import PixelTask, pixel_net

from metanet import edit
from metanet.edit import repair

# the 3x3 bottom-right corner of a 4x4 image: rows 1-3, columns 1-3
CORNER_3X3 = [5, 6, 7, 9, 10, 11, 13, 14, 15]


def _pixel_15(model, x, num_classes, *, seed=0, target=None, **kwargs):
    """A reconstruction that always finds the trigger pixel 15 for class 0 (the real search is slow and
    seed-dependent; this test is about the choice among the regions, not the search)."""
    mask = torch.zeros(1, 4, 4)
    mask[0, 3, 3] = 1.0
    trig = {"kind": "reconstructed", "mask": mask, "pattern": torch.ones(1, 4, 4), "target": 0,
            "anomaly_index": 5.0}
    info = {"mask_l1": [1.0, 16.0, 16.0], "anomaly_index": [5.0, 0.0, 0.0], "suspect": 0,
            "suspect_anomaly_index": 5.0, "suspect_concentration": 1.0, "threshold": 3.0, "found": True}
    return trig, info


def test_the_candidate_regions_are_the_pixel_and_the_two_grown_corners() -> None:
    trig, _ = _pixel_15(None, None, 3)
    regions = sorted(r.tolist() for r in repair.blind_supports(trig, (1, 4, 4)))
    assert regions == [[5, 6, 7, 9, 10, 11, 13, 14, 15], [10, 11, 14, 15], [15]]


def test_blind_repair_cuts_the_largest_exact_region(monkeypatch) -> None:
    monkeypatch.setattr(repair, "reconstruct_trigger", _pixel_15)
    net = pixel_net()
    result = edit.repair_backdoor(net, PixelTask(), blind=True)
    d = result.report.details
    first = d["rounds"][0]
    assert d["mode"] == "blind" and d["backdoor_found"] is True and first["strategy"] == "cut"
    # every first-layer neuron loses its connections from the whole 3x3 corner (not pixel 15 alone)
    assert sorted(first["inputs"]) == CORNER_3X3
    assert sorted(first["neurons"], key=lambda n: int(n.split(":")[1])) == [f"1:{j}" for j in range(16)]
    w = result.model[1].weight.detach()
    assert torch.all(w[:, CORNER_3X3] == 0)
    assert torch.equal(w[:, [0, 1, 2, 3, 4, 8, 12]], net[1].weight.detach()[:, [0, 1, 2, 3, 4, 8, 12]])
    assert first["calibration"]["clean_accuracy"] == [1.0, 1.0] and first["calibration"]["asr"] == [1.0, 0.0]
    assert d["goal_reached"] is True
