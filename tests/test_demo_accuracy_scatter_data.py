"""The demo's TensorBoard figure ``reader/accuracy_scatter`` plots each network at (true accuracy, predicted accuracy),
one marker per task and for networks the reader was or was not trained on. Only its tag was checked before."""

from __future__ import annotations

import numpy as np

from metanet.demo import _scatter


def test_points_are_true_on_x_and_predicted_on_y_split_by_task_and_seen():
    pred, true = [0.2, 0.4, 0.9], [0.1, 0.5, 0.7]
    fig = _scatter(pred, true, ["digits", "digits", "mnist"], [True, False, True], 0.5)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "true test accuracy" and ax.get_ylabel() == "reader's predicted accuracy"
    points = {c.get_label(): np.asarray(c.get_offsets()).tolist() for c in ax.collections}
    np.testing.assert_allclose(points["digits (reader trained on it)"], [[0.1, 0.2]])
    np.testing.assert_allclose(points["digits (unseen by the reader)"], [[0.5, 0.4]])
    np.testing.assert_allclose(points["mnist (reader trained on it)"], [[0.7, 0.9]])
    assert len(points) == 3
    assert "Kendall τ 0.500" in ax.get_title() and "(3 networks)" in ax.get_title()
