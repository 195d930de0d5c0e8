"""``precision``'s per-region ``cost_alone`` is the accuracy lost by quantising that region alone: the accuracy
before minus ``accuracy_alone``, positive when the format hurts (int2 on a trained network's first layer)."""

from __future__ import annotations

import pytest
from inspect_helpers import digits_mlp

from metanet import edit


def test_cost_alone_is_the_accuracy_lost():
    _, rep = edit.precision(digits_mlp(), "0=int2,1=fp32", "digits")
    regions = rep.details["regions"]
    for r in regions.values():
        assert r["cost_alone"] == pytest.approx(rep.before.accuracy - r["accuracy_alone"])
    assert regions["0"]["cost_alone"] > 0.01  # int2 costs accuracy: the sign is tested
    assert regions["1"]["cost_alone"] == 0.0  # fp32 changes nothing
