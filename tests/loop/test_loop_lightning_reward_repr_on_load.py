"""A LoopModule checkpoint of a reward of one's own holds the reward's repr; loaded without ``reward=...`` the error
says to give that reward again (it was only "unknown reward term '_LossOnly()'", naming the valid spec terms)."""

from __future__ import annotations

import pytest

from metanet.errors import ConfigError
from metanet.loop import AccuracyReward, SizePenalty, reward_spec
from metanet.loop.lightning import LoopModule


@pytest.mark.parametrize("saved", ["_LossOnly()", reward_spec(AccuracyReward(tie=0.01) + SizePenalty(0.1))])
def test_a_saved_reward_repr_asks_for_the_reward_again(saved):
    with pytest.raises(ConfigError, match=r"give that reward again, LoopModule\.load_from_checkpoint\(path, reward="):
        LoopModule(writer=None, hidden=4, message=4, reward=saved)


@pytest.mark.parametrize("typo", ["acuracy", "size(x)", "accuracy+size(-1)"])
def test_a_mistyped_spec_gets_no_such_hint(typo):
    with pytest.raises(ConfigError) as e:
        LoopModule(writer=None, hidden=4, message=4, reward=typo)
    assert "load_from_checkpoint" not in str(e.value)
