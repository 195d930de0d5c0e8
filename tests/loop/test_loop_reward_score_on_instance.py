"""A Reward whose ``score`` is set on the instance (``self.score = fn``, a function wrapped as a reward) scores in the
loop, which calls ``self.score``: make_reward accepts it. Its check of a Reward without score looked at the class
only and refused it as implementing no score."""

import pytest

from metanet.errors import ConfigError
from metanet.loop.rewards import WORST, Reward, make_reward
from metanet.verify import Report


class _Wrapped(Reward):
    def __init__(self, fn) -> None:
        self.score = fn


class _Forgot(Reward):
    def __init__(self) -> None:
        self.name = "forgot"


def _report(accuracy: float, loss: float) -> Report:
    return Report(accuracy=accuracy, loss=loss, per_class=[], n=4, seconds=0.0)


def test_a_score_set_on_the_instance_is_accepted_and_used():
    reward = _Wrapped(lambda reports, params: [r.accuracy * 2 for r in reports])
    assert make_reward(reward) is reward
    assert reward([_report(0.25, 1.0), _report(0.5, float("nan"))], {}).tolist() == [0.5, WORST]


def test_a_subclass_that_sets_no_score_is_still_refused():
    with pytest.raises(ConfigError, match="_Forgot implements no score"):
        make_reward(_Forgot())
