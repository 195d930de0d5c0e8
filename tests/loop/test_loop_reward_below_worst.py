"""A working candidate always ranks above a broken one, whatever the reward: a reward at or below WORST (a loss-only
reward of a loss of 2000, a heavy size penalty) tied or lost to the broken candidates' WORST, so ``choose`` picked a
broken candidate and the loop counted the working ones as broken; a NaN reward of a working candidate is warned
about, not scored WORST silently."""

from __future__ import annotations

import math

import torch
from loop_helpers import ARCH, BrokenFirstWriter, SteepReward

from metanet.loop import WORST, AccuracyReward, Reward, SizePenalty, choose, crossfit_rewards, round_loss
from metanet.loop.core import LoopConfig
from metanet.verify import Report


class _NanFor1(Reward):
    def score(self, reports, params):
        return [math.nan if i == 1 else r.accuracy for i, r in enumerate(reports)]


def _rep(acc: float, loss: float) -> Report:
    return Report(acc, loss, [], 10, 0.0)


def test_a_reward_below_worst_still_ranks_a_working_candidate_above_a_broken_one():
    r = SteepReward()([_rep(0.5, 0.2), _rep(0.0, math.inf)], {})
    assert r[1] == WORST and r[0] > WORST and int(torch.argmax(r)) == 0
    heavy = AccuracyReward() + SizePenalty(5000.0)  # built-in terms only
    r = heavy([_rep(0.9, 0.1), _rep(0.0, math.inf)], {"fc.weight": torch.ones(2, 3, 3)})
    assert r[1] == WORST and r[0] > WORST


def test_choose_never_picks_the_broken_candidate_under_a_steep_reward(small):
    c = choose(BrokenFirstWriter(), small, candidates=3, reward=SteepReward())
    assert c.rewards[0] == WORST and bool((c.rewards[1:] > WORST).all())
    assert c.index != 0  # was 0: WORST (-1000) beat every working candidate's -23000


def test_crossfit_keeps_working_candidates_whose_reward_is_below_worst(small):
    cf = crossfit_rewards(BrokenFirstWriter(), ARCH, *small.labelled(), small.num_classes, 3, SteepReward(), folds=2)
    assert cf.rewards[0] == WORST and bool((cf.rewards[1:] > WORST).all())  # all three were WORST


def test_the_loop_counts_only_the_broken_candidate_as_broken(small):
    cfg = LoopConfig(candidates=3)
    _, stats = round_loss(BrokenFirstWriter(), [small], cfg, SteepReward(), seed=0)
    assert stats["broken"] == 1 and stats["winners"] == 1  # were 3 and 0: the round learnt nothing


def test_a_nan_reward_of_a_working_candidate_is_worst_and_warned_about(caplog):
    r = _NanFor1()([_rep(0.5, 0.2), _rep(0.7, 0.2)], {})
    assert r.tolist() == [0.5, WORST]
    assert "_NanFor1.score gave working candidates 1 NaN/inf reward" in caplog.text
