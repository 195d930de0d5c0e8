"""The Neural Cleanse features of the reader's scan, computed by hand from per-class mask norms as the module
docstring defines them: ``min_log_l1`` (the smallest log norm), ``anomaly`` (the smallest class's robust z-score
``(med - min) / (1.4826 MAD)``), ``log_gap`` (second smallest minus smallest) and ``concentration`` (of the smallest
mask); a class never reached (an infinite norm) costs the largest norm that reached one."""

from __future__ import annotations

import math
import statistics

import torch

from metanet.edit.repair import concentration
from metanet.reader.scan import SCAN_FEATURES, _features


def _masks(k: int, classes: int, compact: int) -> torch.Tensor:
    """Spread-out masks (mass on every pixel), except class ``compact``'s: a 3x3 patch in a corner."""
    m = torch.full((k, classes, 1, 8, 8), 0.1)
    m[:, compact] = 0.0
    m[:, compact, :, :3, :3] = 1.0
    return m


def test_each_feature_is_its_documented_value():
    l1 = torch.tensor([[100.0, 5.0, 80.0, 90.0, 120.0]])
    masks = _masks(1, 5, compact=1)
    f = _features(l1, masks)[0]
    logs = [math.log(v) for v in l1[0].tolist()]
    med = statistics.median(logs)
    mad = 1.4826 * statistics.median(abs(v - med) for v in logs)
    want = {"min_log_l1": math.log(5.0), "anomaly": (med - math.log(5.0)) / mad,
            "log_gap": math.log(80.0) - math.log(5.0), "concentration": concentration(masks[0, 1])}
    assert want["concentration"] > 0.99 and concentration(masks[0, 0]) < 0.5  # the smallest mask's, not another's
    assert want["anomaly"] > 1.0
    for i, name in enumerate(SCAN_FEATURES):
        assert math.isclose(float(f[i]), want[name], rel_tol=1e-5, abs_tol=1e-6), (name, float(f[i]), want[name])


def test_a_class_never_reached_costs_the_largest_norm_that_reached_one():
    masks = _masks(2, 4, compact=0)
    reached_all = torch.tensor([[3.0, 40.0, 50.0, 60.0], [3.0, 40.0, 60.0, 60.0]])
    unreached = torch.tensor([[3.0, 40.0, 50.0, 60.0], [3.0, 40.0, float("inf"), 60.0]])
    torch.testing.assert_close(_features(unreached, masks), _features(reached_all, masks), rtol=0, atol=1e-6)
