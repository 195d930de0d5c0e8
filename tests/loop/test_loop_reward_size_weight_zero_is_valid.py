"""A size penalty of weight 0 is valid (the documented range is weight >= 0): ``size(0)`` adds nothing to the
accuracy, while a negative weight, which would favour more connections, is refused naming the valid range."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import ConfigError
from metanet.loop import AccuracyReward, SizePenalty, make_reward
from metanet.verify import Report

REPORTS = [Report(0.5, 1.0, [], 10, 0.0), Report(0.75, 3.0, [], 10, 0.0)]
PARAMS = {"fc.weight": torch.ones(2, 3, 3)}


def test_size_weight_zero_adds_nothing():
    assert SizePenalty(0.0)(REPORTS, PARAMS).tolist() == [0.0, 0.0]
    assert SizePenalty(0)(REPORTS, PARAMS).tolist() == [0.0, 0.0]
    total = make_reward("accuracy+size(0)")
    assert torch.equal(total(REPORTS, PARAMS), AccuracyReward()(REPORTS, PARAMS))


@pytest.mark.parametrize("weight", [-0.1, -1e-300])
def test_a_negative_size_weight_is_refused(weight):
    with pytest.raises(ConfigError, match=r"weight >= 0 and threshold >= 0"):
        SizePenalty(weight)
    with pytest.raises(ConfigError, match=r"weight >= 0"):
        make_reward(f"accuracy+size({weight!r})")
