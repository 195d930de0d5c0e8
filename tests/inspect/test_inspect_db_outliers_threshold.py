"""`NeuronDB.outliers(z)` lists the neurons whose outlier score is *at least* ``z`` (INDEX.md says "robust z-score
>= 4"): a score of exactly ``z`` is listed; NaN/None scores are not."""

from __future__ import annotations

import math

from metanet.inspect.db import NeuronDB


def test_a_score_equal_to_the_threshold_is_an_outlier():
    scores = [3.999, 4.0, 7.5, None, math.nan]
    db = NeuronDB([dict(layer=1, idx=j, outlier=s) for j, s in enumerate(scores)], {})
    assert db.outliers() == [(1, 1), (1, 2)]
    assert db.outliers(7.5) == [(1, 2)]
    assert db.outliers(3.999) == [(1, 0), (1, 1), (1, 2)]
