"""Necessity pruning, like magnitude pruning, leaves every layer at least its largest connection (as documented): a
target near 1 stops short rather than cutting a layer's strongest weight."""

from __future__ import annotations

import pytest
from inspect_helpers import digits_mlp

from metanet import edit


@pytest.mark.parametrize("tolerance", [1.0, 0.0])  # every block accepted; every block measured, the rest forced
def test_each_layer_keeps_its_largest_connection(tolerance):
    before = digits_mlp()
    after, rep = edit.prune(before, 0.99, "digits", method="necessity", tolerance=tolerance, max_examples=100)
    for w0, w1 in ((before.layers[i].weight, after.layers[i].weight) for i in range(len(before.layers))):
        big = int(w0.detach().abs().flatten().argmax())
        assert w1.detach().flatten()[big] == w0.detach().flatten()[big] != 0
        assert int((w1 != 0).sum()) < w1.numel() // 10  # pruned hard: the largest had to be protected
