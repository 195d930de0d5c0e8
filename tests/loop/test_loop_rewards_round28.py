"""Round 28: AccuracyReward's tie-break stays below one example's worth of accuracy, whatever the loss."""

from __future__ import annotations

import pytest
import torch

from metanet.loop import AccuracyReward
from metanet.verify import Report


def _report(acc: float, loss: float, n: int = 1000) -> Report:
    return Report(acc, loss, [], n, 0.0, "t", "val", {})


@pytest.mark.parametrize("loss", [1e12, 1e17, 1e300])
def test_a_huge_finite_loss_does_not_undo_one_example_of_accuracy(loss):
    # 1 more correct example of 1000 must win, however large its (finite) loss: loss / (1 + loss) rounded to 1.0
    # and the two candidates tied (the worse one won the tie, being first)
    r = AccuracyReward()([_report(0.5, 0.0), _report(0.501, loss)], {})
    assert r[1] > r[0]
    assert int(torch.argmax(r)) == 1
    assert 0.5 < r[1].item() < 0.501


def test_the_tie_break_is_unchanged_for_ordinary_losses():
    r = AccuracyReward()([_report(0.5, 0.3), _report(0.5, 3.0)], {})
    assert r.tolist() == [0.5 - 1e-3 * 0.3 / 1.3, 0.5 - 1e-3 * 3.0 / 4.0]
