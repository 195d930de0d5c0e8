"""A measured-necessity prune's report says what its counters count: the demo printed 'accepted_free: 35527',
'measured_necessary: 3397' and 'forced: 44' with no word on what they were."""

from __future__ import annotations

from metanet.edit.report import EditReport
from metanet.verify import Report


def test_the_prune_counters_are_explained_where_they_are_printed():
    r = Report(accuracy=0.9, loss=0.3, per_class=[0.9, 0.9], n=10, seconds=0.1, task="digits", split="test")
    rep = EditReport(edit="prune", params={"sparsity": 0.7}, before=r, after=r,
                     details={"evaluations": 12, "accepted_free": 100, "measured_necessary": 7, "forced": 2,
                              "sparsity": 0.7})
    text = str(rep)
    assert "accepted_free: 100  (connections zeroed at no accuracy cost beyond the tolerance)" in text
    assert "measured_necessary: 7  (connections whose removal cost accuracy" in text
    assert "forced: 2  (connections zeroed anyway to reach the target, the least necessary by estimate)" in text
    assert "evaluations: 12  (accuracy measurements on the calibration split)" in text
    assert "  sparsity: 0.7\n" in text + "\n"  # other details as before
