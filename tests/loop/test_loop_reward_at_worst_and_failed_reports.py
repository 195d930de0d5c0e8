"""`Reward.__call__` at its two documented edges: a working candidate rewarded exactly WORST is raised just above it
(left at WORST it tied a broken candidate, ``choose``'s argmax took the broken one at the lower index and the loop
counted the working one as broken), and a report marked ``failed`` (its verification crashed) is WORST even when
its loss is finite."""

from __future__ import annotations

import math

import torch

from metanet.loop import WORST, AccuracyReward, SizePenalty
from metanet.verify import Report


def _rep(acc: float, loss: float, **extra) -> Report:
    return Report(acc, loss, [], 10, 0.0, "t", "val", extra)


def test_a_working_candidate_rewarded_exactly_worst_ranks_above_a_broken_one():
    # every connection non-zero: the penalty is exactly -1000 = WORST for both candidates
    heavy = SizePenalty(-WORST)
    r = heavy([_rep(0.0, math.inf), _rep(0.5, 0.3)], {"fc.weight": torch.ones(2, 3, 3)})
    assert heavy.score([_rep(0.5, 0.3)] * 2, {"fc.weight": torch.ones(2, 3, 3)}).tolist() == [WORST, WORST]
    assert r[0] == WORST and r[1] > WORST
    assert int(torch.argmax(r)) == 1


def test_a_failed_report_is_worst_even_with_a_finite_loss():
    r = AccuracyReward()([_rep(0.9, 0.1, failed="RuntimeError: boom"), _rep(0.5, 0.3)], {})
    assert r[0] == WORST and r[1] > WORST
