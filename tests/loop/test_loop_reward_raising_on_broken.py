"""A reward whose score raises because of a broken candidate (an SVD of the K stacked weights fails on one
candidate's NaN weights) scores the working candidates without it: it raised out of choose / evaluate / improve's
tracked reward (the run died) and skipped the task's round in the loop. A score that raises with no broken
candidate among them is the reward's own error, and still raises."""

from __future__ import annotations

import math

import pytest
import torch
from loop_helpers import BrokenFirstWriter

from metanet.loop import WORST, AccuracyReward, Reward, choose
from metanet.verify import Report


class _Spectral(Reward):
    """Minus the largest singular value of the first layer, computed for the K candidates at once."""

    def score(self, reports, params):
        w = next(v for k, v in params.items() if k.endswith("weight"))
        return -1e-3 * torch.linalg.matrix_norm(w, ord=2)


def _rep(loss: float, failed: bool = False) -> Report:
    return Report(0.5, loss, [], 10, 0.0, extra={"failed": "non-finite weights"} if failed else {})


def test_the_working_candidates_are_scored_without_the_broken_one(caplog):
    w = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0))  # the same weights every run
    w[0, 0, 0] = math.nan
    r = _Spectral()([_rep(math.inf, failed=True), _rep(0.3), _rep(0.4)], {"l.weight": w})
    assert r[0] == WORST
    assert torch.allclose(r[1:], -1e-3 * torch.linalg.matrix_norm(w[1:].double(), ord=2))
    assert "_Spectral.score raised" in caplog.text


def test_choose_survives_a_reward_that_a_broken_candidate_makes_raise(small):
    c = choose(BrokenFirstWriter(), small, candidates=3, reward=AccuracyReward() + _Spectral())
    assert c.rewards[0] == WORST and bool((c.rewards[1:] > WORST).all()) and c.index != 0


def test_a_reward_that_raises_without_a_broken_candidate_still_raises():
    w = torch.randn(2, 4, 5, generator=torch.Generator().manual_seed(0))
    w[0, 0, 0] = math.nan  # NaN weights, but the reports say nothing is broken: the reward's own error
    with pytest.raises(torch.linalg.LinAlgError):
        _Spectral()([_rep(0.3), _rep(0.4)], {"l.weight": w})
