"""A Reward that implements no ``score`` (the base class itself, or a subclass that forgot it) is refused when it is
given, naming the class; it was accepted and failed with a bare NotImplementedError in the loop's first round."""

import pytest

from metanet.errors import ConfigError
from metanet.loop.lightning import _reward_from_class_path
from metanet.loop.rewards import AccuracyReward, Reward, make_reward


class _Forgot(Reward):
    pass


class _OwnCall(Reward):
    def __call__(self, reports, params):
        return super().__call__(reports, params)

    def score(self, reports, params):
        return [1.0] * len(reports)


@pytest.mark.parametrize("reward", [Reward(), _Forgot()])
def test_a_reward_without_score_is_refused(reward):
    with pytest.raises(ConfigError, match=rf"{type(reward).__qualname__} implements no score"):
        make_reward(reward)


def test_the_base_class_named_in_a_config_is_refused():
    with pytest.raises(ConfigError, match="metanet.loop.rewards.Reward implements no score"):
        _reward_from_class_path({"class_path": "metanet.loop.rewards.Reward"})


def test_rewards_that_score_are_kept_as_given():
    for r in (AccuracyReward(), _OwnCall(), AccuracyReward() + AccuracyReward()):
        assert make_reward(r) is r
    assert isinstance(_reward_from_class_path({"class_path": "metanet.loop.rewards.AccuracyReward"}), AccuracyReward)
