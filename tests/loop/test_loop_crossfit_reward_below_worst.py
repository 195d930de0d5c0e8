"""Cross-fitting keeps a working candidate above WORST when its reward is at or below WORST in every fold: each fold
raised it just above WORST, but the fold-size-weighted mean of those rewards rounded back to WORST (with the default
5 folds), so the candidate counted as broken and the round learnt nothing."""

from __future__ import annotations

import torch
from loop_helpers import ARCH, SteepReward, stack_params

from metanet.loop import WORST, crossfit_rewards, round_loss
from metanet.loop.core import LoopConfig
from metanet.nets import build


class _Working:
    """Writes K different working networks of ``arch``."""

    def write(self, arch, x, y, num_classes, candidates=1, seed=0, **kw):
        return stack_params([build(arch, seed=s) for s in range(candidates)])


def test_crossfit_with_the_default_folds_keeps_every_working_candidate_above_worst(small):
    for folds in (3, 5):  # fold sizes whose weighted mean of a reward just above WORST rounded to WORST
        cf = crossfit_rewards(_Working(), ARCH, *small.labelled(), small.num_classes, 3, SteepReward(), folds=folds)
        assert bool((cf.fold_rewards > WORST).all())
        assert bool((cf.rewards > WORST).all()), (folds, cf.rewards.tolist())  # was [-1000.0] * 3


def test_a_crossfit_round_counts_no_working_candidate_as_broken(small):
    cfg = LoopConfig(candidates=3, selection="crossfit", folds=5)
    _, stats = round_loss(_Working(), [small], cfg, SteepReward(), seed=0)
    assert stats["broken"] == 0 and stats["winners"] >= 1  # were 3 and 0
    assert torch.isfinite(torch.tensor(stats["reward_best"]))
