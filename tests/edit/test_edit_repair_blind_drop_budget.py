"""Blind backdoor repair measures its edits against a reconstructed trigger (a proxy that may be a natural feature of a
clean network), so it works to half the accuracy budget (``max_drop / 2``, as documented); with the known trigger
the budget is ``max_drop`` itself. The goal the report checks is that budget."""

from __future__ import annotations

import pytest
from inspect_helpers import backdoored_digits_mlp

from metanet import edit

TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "pattern": [[1, 1], [1, 1]], "target": 3,
           "poison_rate": 0.1}


@pytest.fixture(scope="module")
def backdoored():
    return backdoored_digits_mlp(TRIGGER)


@pytest.mark.parametrize("blind, budget", [(True, 0.02), (False, 0.04)])
def test_the_goal_uses_half_the_drop_budget_only_blind(backdoored, blind, budget):
    _, rep = edit.repair_backdoor(backdoored, "digits", TRIGGER, blind=blind, max_drop=0.04, max_rounds=1)
    goal = rep.details["goal"]
    assert rep.details["backdoor_found"]
    assert goal["max_drop"] == pytest.approx(budget)
    assert goal["drop_over_budget"] == pytest.approx(max(0.0, goal["accuracy_drop"] - budget))
