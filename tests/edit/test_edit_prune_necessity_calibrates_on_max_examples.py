"""Necessity pruning measures its removals on at most ``max_examples`` calibration examples, the first ones of
``calib_split`` (``prune`` in ``metanet/edit/edits.py``). On the hand-built two-path network of
``test_edit_prune_necessity_counts_on_a_hand_built_net`` the only class-1 example is the 30th: with
``max_examples=29`` the calibration never sees class 1, so removing its path is free; with 30 it is necessary."""

from __future__ import annotations

from test_edit_prune_necessity_counts_on_a_hand_built_net import TwoPaths, _net, _weights

from metanet import edit


def test_the_calibration_stops_at_max_examples():
    result = edit.prune(_net(), 0.75, TwoPaths(), method="necessity", max_examples=29)
    d = result.report.details
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (2, 2, 0, 0)
    assert d["calibration_accuracy"] == [1.0, 1.0]
    assert _weights(result.model) == [[[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]]


def test_the_example_within_max_examples_makes_the_path_necessary():
    d = edit.prune(_net(), 0.75, TwoPaths(), method="necessity", max_examples=30).report.details
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (2, 0, 2, 2)
    assert d["calibration_accuracy"] == [1.0, 29 / 30]
