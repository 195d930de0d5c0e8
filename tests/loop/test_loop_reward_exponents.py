"""A size weight written with an exponent sign (``size(1e+3)``, and how :func:`~metanet.loop.rewards.reward_spec`
spells a weight from 1e16 on) is one reward term: ``make_reward`` split the spec at every ``+``, so it refused
``size(1e`` as an unknown term, and ``make_reward(reward_spec(r))`` did not give ``r`` back."""

from __future__ import annotations

import pytest

from metanet.errors import ConfigError
from metanet.loop.rewards import AccuracyReward, SizePenalty, make_reward, reward_spec


def test_a_weight_with_an_exponent_sign_is_read():
    assert make_reward("size(1e+3)").weight == 1000.0
    total = make_reward("accuracy + size(2E+1)")
    assert [type(p) for p in total.parts] == [AccuracyReward, SizePenalty] and total.parts[1].weight == 20.0


def test_reward_spec_reads_back_for_large_weights():
    reward = AccuracyReward() + SizePenalty(1e16)
    spec = reward_spec(reward)
    assert spec == "accuracy+size(1e+16)"
    back = make_reward(spec)
    assert reward_spec(back) == spec and back.parts[1].weight == 1e16


def test_a_plus_outside_a_term_still_separates_terms():
    with pytest.raises(ConfigError, match=r"unknown reward term 'size\(1\)size'"):
        make_reward("size(1)size+accuracy")
    with pytest.raises(ConfigError, match=r"bad size penalty 'size\(1e\+\)'"):
        make_reward("size(1e+)")
