"""Round 28: StatNN names complex targets instead of failing inside scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from metanet.errors import ConfigError
from metanet.reader.statnn import StatNN


def test_complex_targets_are_a_config_error():
    X = np.random.default_rng(0).normal(size=(4, 46))
    with pytest.raises(ConfigError, match="numeric targets, got complex128"):  # was scikit-learn's ValueError
        StatNN(max_iter=2).fit(X, np.array([1j, 2, 3, 4]))
    # real targets as complex numbers are refused too (their imaginary part would be dropped silently)
    with pytest.raises(ConfigError, match="numeric targets"):
        StatNN(max_iter=2).fit(X, np.array([1, 2, 3, 4], dtype=complex))
    assert StatNN(max_iter=2).fit(X, np.array([1.0, 2, 3, 4])).predict(X).shape == (4,)
