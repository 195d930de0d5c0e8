"""`metanet.generate`'s report: among candidates of equal validation accuracy (common on a small validation split)
the one of the lower validation loss is chosen, as "<- chosen" says (the first of the best accuracy was chosen
whatever its loss); and ``seconds`` (the whole call, verification included) is more than ``seconds_write``."""

from __future__ import annotations

import warnings

import pytest
import torch
from sklearn.datasets import load_digits

import metanet


@pytest.fixture(scope="module")
def report():
    d = load_digits()
    x = torch.tensor(d.data[:120] / 16.0, dtype=torch.float32)
    task = metanet.tasks.from_examples(x, torch.tensor(d.target[:120]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metanet.generate(task, candidates=8, seed=0).report


def test_equal_accuracies_are_decided_by_the_lower_loss(report):
    accs = [c["val_accuracy"] for c in report.candidates]
    best = [i for i, a in enumerate(accs) if a == max(accs)]
    assert len(best) > 1  # a tie to decide (25 validation examples, 8 candidates)
    losses = [report.candidates[i]["val_loss"] for i in best]
    assert losses[0] != min(losses)  # the first of them is not the one of the lowest loss
    assert report.chosen == best[losses.index(min(losses))]


def test_seconds_include_the_verification_after_the_write(report):
    assert 0 < report.seconds_write < report.seconds
