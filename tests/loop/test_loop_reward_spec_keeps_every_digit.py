"""reward_spec spells a size weight with every digit: ``make_reward`` reads back the very same weight, not one
rounded to 6 significant digits."""

from __future__ import annotations

import pytest

from metanet.loop import AccuracyReward, SizePenalty, make_reward, reward_spec


@pytest.mark.parametrize("weight", [0.123456789, 1 / 3, 2.5e-7 + 1e-15])
def test_reward_spec_reads_back_the_same_size_weight(weight):
    spec = reward_spec(AccuracyReward() + SizePenalty(weight))
    assert spec == f"accuracy+size({weight!r})"
    assert make_reward(spec).parts[1].weight == weight

