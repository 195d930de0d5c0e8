"""mnist1d is scaled to [0, 1] by the min / max of its ``train`` split alone: a val signal past the train range is
clipped, it does not stretch the scale (on the shipped data the train split holds both extremes, so only data with an
extreme in val tells the two apart). Synthetic signals stand in for make_dataset: nothing is generated or downloaded."""

from __future__ import annotations

import types

import mnist1d.data
import numpy as np

from metanet.tasks import sources


def test_a_val_signal_past_the_train_range_is_clipped_not_used_for_the_scale(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 100)
    x = rng.uniform(2.0, 3.0, size=(1000, 40))
    _, carved = sources._stratified(y, 500)  # the val rows _load_mnist1d carves
    x[carved[0], 0], x[carved[1], 1] = -10.0, 10.0  # the extremes of all training signals sit in val
    y_test = np.repeat(np.arange(10), 5)
    x_test = np.full((50, 40), 2.5)
    x_test[0, 0] = 100.0
    made = {"x": x, "y": y, "x_test": x_test, "y_test": y_test}
    monkeypatch.setattr(mnist1d.data, "get_dataset_args", lambda: types.SimpleNamespace(seed=42))
    monkeypatch.setattr(mnist1d.data, "make_dataset", lambda args: made)
    data = sources._load_mnist1d()
    train, val, test = data.x["train"], data.x["val"], data.x["test"]
    assert train.shape == (500, 1, 40) and val.shape == (500, 1, 40) and test.shape == (50, 1, 40)
    assert float(train.min()) == 0.0 and float(train.max()) == 1.0  # the train split spans [0, 1] exactly
    rest = np.setdiff1d(np.arange(1000), carved)
    lo, hi = x[rest].min(), x[rest].max()
    assert val.min() == 0.0 and val.max() == 1.0  # its -10 and 10 clipped
    assert test.max() == 1.0 and abs(float(test[1, 0, 0]) - (2.5 - lo) / (hi - lo)) < 1e-6
    assert f"min {lo:.4f} / max {hi:.4f}" in data.description
