"""The loop's candidate diversity when candidates' logits are not finite: a NaN row predicts nothing and agrees
with no other row (argmax read two NaN candidates as agreeing on class 0: diversity 0, 'all agree')."""

from __future__ import annotations

import math

import torch
from loop_helpers import stack_params as _stacked

from metanet.loop.core import diversity
from metanet.nets import build


def test_two_nan_candidates_do_not_agree(small):
    params = {k: v * math.nan for k, v in _stacked([build(small.arch, seed=s) for s in (0, 1)]).items()}
    assert diversity(small, params) == 1.0


def test_a_nan_candidate_disagrees_with_a_finite_one_and_identical_finite_ones_agree(small):
    net = build(small.arch, seed=0)
    same = _stacked([net, net])
    assert diversity(small, same) == 0.0  # finite candidates: as before
    params = {k: torch.cat([v[:1], v[1:] * math.nan]) for k, v in same.items()}
    assert diversity(small, params) == 1.0
