"""`metanet.edit.prune(method="necessity")` keeps to its evaluation budget (``max_evals`` of ``_necessity``, 400 by
default): a rejected block's bisection measured its pending second halves after the budget was spent, so a prune
could run 402 evaluations where the budget said 400."""

from __future__ import annotations

import pytest

import metanet.edit.edits as edits
from metanet import edit
from metanet.nets import build


@pytest.mark.parametrize("budget", [5, 8])
def test_necessity_pruning_measures_at_most_its_budget(monkeypatch, budget):
    calls = []
    accuracy, necessity = edits._accuracy, edits._necessity
    monkeypatch.setattr(edits, "_accuracy", lambda *a, **k: calls.append(1) or accuracy(*a, **k))
    monkeypatch.setattr(edits, "_necessity", lambda *a, **k: necessity(*a, max_evals=budget, **k))
    _, rep = edit.prune(build("mlp:64-32-10:relu", seed=0), 0.9, "digits", method="necessity", max_examples=200)
    assert rep.details["evaluations"] == budget  # 0.9 needs more than the budget allows: all of it is spent
    assert len(calls) == budget + 2  # plus the accuracy before and after, reported as calibration_accuracy
