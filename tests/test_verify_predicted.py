"""``metanet.verify.predicted``: the one rule for predictions from logits: a row with a NaN or an infinity predicts
nothing (NO_PREDICTION), so it matches no label or attack target; finite rows are their argmax."""

from __future__ import annotations

import math

import torch

from metanet.verify import NO_PREDICTION, predicted


def test_rows_with_nan_or_inf_have_no_prediction_and_finite_rows_their_argmax():
    logits = torch.tensor([[[0.0, 2.0, 1.0], [math.nan, 0.0, 0.0], [0.0, math.inf, 0.0]],
                           [[0.0, -math.inf, 1.0], [5.0, 1.0, 1.0], [math.nan] * 3]])
    pred = predicted(logits)
    assert pred.tolist() == [[1, NO_PREDICTION, NO_PREDICTION], [NO_PREDICTION, 0, NO_PREDICTION]]
    assert NO_PREDICTION < 0  # never a class index: a comparison with labels or a target is False
    # argmax took NaN for the largest: the all-NaN row was class 0, right on a label 0
    assert (pred[1, 2] == 0).item() is False


def test_finite_logits_give_exactly_argmax():
    logits = torch.randn(3, 50, 7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(predicted(logits), logits.argmax(-1))
