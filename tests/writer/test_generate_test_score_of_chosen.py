"""`metanet.generate`'s report gives the test score of the candidate it chose and returns, not of candidate 0."""

from __future__ import annotations

import metanet


def test_the_test_score_is_the_chosen_candidates(trained, digits):
    g = metanet.generate(digits, candidates=2, seed=0, shots=10, writer=trained)
    assert g.report.chosen == 1  # the case to tell apart: candidate 0 scores otherwise on test
    assert g.model is g.candidates[1]
    first, chosen = (metanet.verify(m, digits, split="test") for m in g.candidates)
    assert first.accuracy != chosen.accuracy
    assert (g.report.test.accuracy, g.report.test.per_class, g.report.test.n) == (
        chosen.accuracy, chosen.per_class, chosen.n)
