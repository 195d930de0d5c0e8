"""`metanet.loop.candidate_rewards` scores the candidates ``perturb`` returns, under either selection: the rewards are
those of the perturbed candidates (the loop's pg noise), and ``perturb`` is called once per write with its fold
(0 for ``"val"``, 0..F-1 for ``"crossfit"``). Dropping the perturbation under ``"val"`` scored the unperturbed
candidates, and no test noticed (the loop itself scores val candidates without this function)."""

from __future__ import annotations

import math

import pytest
import torch
from loop_helpers import toy_task

from metanet.loop import WORST, AccuracyReward, candidate_rewards
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


class _FixedWriter:
    """K fixed candidates of ARCH, whatever the examples (the same every write)."""

    def __init__(self, k: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.params = {n: torch.randn(k, *v.shape, generator=g) for n, v in build(ARCH, seed=0).state_dict().items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        return {n: v.clone() for n, v in self.params.items()}


@pytest.mark.parametrize("selection, folds", [("val", [0]), ("crossfit", [0, 1])])
def test_candidate_rewards_score_the_perturbed_candidates(selection, folds):
    seen = []

    def break_candidate_1(params, fold):
        seen.append(fold)
        out = {k: v.clone() for k, v in params.items()}
        out[next(iter(out))][1] = math.nan  # the perturbation breaks candidate 1 only
        return out

    lt = toy_task(ARCH)
    r, reports = candidate_rewards(_FixedWriter(3), lt, 3, AccuracyReward(), selection, folds=2, seed=0,
                                   perturb=break_candidate_1)
    assert seen == folds
    assert r[1] == WORST and bool((r[[0, 2]] > WORST).all())
    # without the perturbation every candidate works
    r0, _ = candidate_rewards(_FixedWriter(3), lt, 3, AccuracyReward(), selection, folds=2, seed=0)
    assert bool((r0 > WORST).all())
