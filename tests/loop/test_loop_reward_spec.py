"""reward_spec spells a reward as make_reward / ``--reward`` takes it, and improve's History says the same as
``metanet improve --json``: its ``config["reward"]`` was the Python repr ("AccuracyReward(tie=0.001) + ...")."""

from __future__ import annotations

import pytest

from metanet.errors import ConfigError
from metanet.loop.rewards import AccuracyReward, Reward, SizePenalty, make_reward, reward_spec


@pytest.mark.parametrize("given, spelled", [
    (None, "accuracy"), ("accuracy", "accuracy"), ("size", "size(0.05)"),
    ("accuracy + size(0.1)", "accuracy+size(0.1)"), ("size(1e-05)+accuracy", "size(1e-05)+accuracy"),
    (AccuracyReward() + SizePenalty(0.3), "accuracy+size(0.3)"),
    (AccuracyReward() + (SizePenalty(0.2) + AccuracyReward()), "accuracy+size(0.2)+accuracy")])
def test_reward_spec_round_trips_through_make_reward(given, spelled):
    assert reward_spec(given) == spelled
    back = make_reward(spelled)
    assert repr(back) == repr(make_reward(given))  # the same reward, part by part
    assert reward_spec(back) == spelled


class _Mine(Reward):
    def score(self, reports, params):
        return 0.0


@pytest.mark.parametrize("reward, spec", [(AccuracyReward(tie=0.01), "AccuracyReward(tie=0.01)"),
                                          (SizePenalty(0.05, threshold=0.1), "SizePenalty(weight=0.05, threshold=0.1)"),
                                          (_Mine(), "_Mine()"), (AccuracyReward() + _Mine(), "accuracy+_Mine()")])
def test_what_the_spelling_cannot_say_is_its_repr_which_make_reward_refuses(reward, spec):
    assert reward_spec(reward) == spec
    with pytest.raises(ConfigError, match="unknown reward term"):  # not read back as another reward
        make_reward(spec)


def test_improve_history_names_the_reward_as_reward_takes_it(loop_tasks, tiny_writer):
    from metanet.loop import improve

    _, hist = improve(tiny_writer, loop_tasks[:1], rounds=0, candidates=2, reward="accuracy + size(0.1)",
                      track=False)
    assert hist.config["reward"] == "accuracy+size(0.1)"  # was "AccuracyReward(tie=0.001) + SizePenalty(...)"
