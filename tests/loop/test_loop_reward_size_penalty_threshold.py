"""``SizePenalty`` counts the connections whose magnitude is strictly *above* its threshold, as documented: with
``threshold=0`` (allowed: thresholds >= 0) the zeros of a pruned network are free, and a weight exactly at the
threshold is not counted."""

from __future__ import annotations

import torch

from metanet.loop import SizePenalty


def test_threshold_zero_does_not_count_zero_weights():
    w = torch.ones(2, 4, 3)
    w[0, :2] = 0.0  # candidate 0: half of its 12 connections pruned to exactly 0
    r = SizePenalty(weight=1.0, threshold=0).score([None, None], {"layers.0.weight": w})
    assert r.tolist() == [-0.5, -1.0]


def test_a_weight_exactly_at_the_threshold_is_not_counted():
    w = torch.full((1, 2, 2), 0.25)
    w[0, 0, 0] = 1.0
    r = SizePenalty(weight=1.0, threshold=0.25).score([None], {"layers.0.weight": w})
    assert r.tolist() == [-0.25]
