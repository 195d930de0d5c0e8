"""Recipe distributions draw with the documented shape, not only inside their range: ``log_uniform`` is uniform in
log space (half its draws below the geometric mean of its ends), ``uniform`` is uniform in the values themselves.

A ``log_uniform`` sampled as ``uniform`` stays within [lo, hi] (the range test passes), yet a zoo's learning rates
``{log_uniform: [1e-4, 1e-2]}`` would then be ~90% above 1e-3: a reader's learning-rate ground truth skewed."""

from __future__ import annotations

import math

import numpy as np

from metanet.zoo import Dist


def _draws(spec: dict, n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(0)
    d = Dist.parse("x", spec)
    return np.array([d.sample(rng) for _ in range(n)])


def test_log_uniform_is_uniform_in_log_space():
    v = _draws({"log_uniform": [1e-4, 1e-2]})
    assert v.min() >= 1e-4 and v.max() <= 1e-2
    below = float((v < 1e-3).mean())  # 1e-3: the geometric mean of the ends
    assert 0.45 < below < 0.55, f"{below:.1%} of log_uniform [1e-4, 1e-2] draws are below 1e-3; expected ~50%"
    # each decade gets its share: a quarter of the draws below 10**-3.5
    assert 0.2 < float((v < 10 ** -3.5).mean()) < 0.3
    assert abs(float(np.log(v).mean()) - math.log(1e-3)) < 0.1


def test_uniform_is_uniform_in_the_values():
    v = _draws({"uniform": [0.0, 1.0]})
    assert v.min() >= 0.0 and v.max() <= 1.0
    assert 0.45 < float((v < 0.5).mean()) < 0.55
    assert abs(float(v.mean()) - 0.5) < 0.03
