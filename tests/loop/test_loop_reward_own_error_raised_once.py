"""A reward whose score raises with no broken candidate among them raises its own error straight away: its score
is called once, not retried on "the working candidates" (all of them), and nothing is logged as a rescoring. A
score that fails only on its first call would otherwise have passed silently."""

from __future__ import annotations

import logging

import pytest
import torch

from metanet.loop import Reward
from metanet.verify import Report


class _FailsOnce(Reward):
    def __init__(self) -> None:
        self.calls = 0

    def score(self, reports, params):
        self.calls += 1
        if self.calls == 1:
            raise ValueError("the reward's own bug")
        return [r.accuracy for r in reports]


def test_the_rewards_own_error_is_raised_without_a_retry(caplog):
    reports = [Report(0.5, 1.0, [], 10, 0.0), Report(0.7, 0.4, [], 10, 0.0)]
    params = {"fc.weight": torch.ones(2, 3, 3)}
    reward = _FailsOnce()
    with caplog.at_level(logging.WARNING, logger="metanet.loop"), pytest.raises(ValueError, match="own bug"):
        reward(reports, params)
    assert reward.calls == 1 and "working candidates" not in caplog.text
