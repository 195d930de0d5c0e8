"""Necessity pruning keeps a removed block when the calibration accuracy stays within ``tolerance`` of the
original: with a tolerance of 1 (any drop accepted) nothing is measured necessary and nothing is forced; with 0
the blocks that cost accuracy are refused."""

from __future__ import annotations

import pytest
from inspect_helpers import digits_mlp

from metanet import edit


@pytest.fixture(scope="module")
def trained():
    return digits_mlp()


def test_a_full_tolerance_accepts_every_block(trained):
    _, rep = edit.prune(trained, 0.9, "digits", method="necessity", tolerance=1.0, max_examples=200)
    d = rep.details
    assert d["measured_necessary"] == 0 and d["forced"] == 0
    assert d["accepted_free"] > 0 and d["sparsity"] >= 0.89


def test_no_tolerance_refuses_blocks_that_cost_accuracy(trained):
    _, rep = edit.prune(trained, 0.9, "digits", method="necessity", tolerance=0.0, max_examples=200)
    assert rep.details["measured_necessary"] > 0  # the test above can fail: 90 % sparsity costs accuracy here
