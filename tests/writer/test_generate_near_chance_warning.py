"""generate warns when the chosen network's validation score is within NEAR_CHANCE of the best constant
classifier's: a network that varies its predictions but barely reads the task (1-shot mnist1d written without
biases: validation accuracy 0.134 on 10 classes) was returned without a word; the constant-classifier warning only
covers networks that predict one class everywhere."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet


def test_generate_warns_about_a_network_near_chance() -> None:
    with pytest.warns(UserWarning, match=r"validation accuracy 0\.1\d\d, within 0\.05 of chance \(0\.1\d\d") as rec:
        g = metanet.generate("mnist1d", arch="mlp:40-64-10:relu:nobias", shots=1, candidates=1, seed=0)
    assert "predicts class" not in " ".join(str(w.message) for w in rec)  # not a constant: the other warning
    assert g.report.candidates[0]["val_accuracy"] < 0.15


def test_generate_does_not_warn_about_a_network_that_reads_the_task() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = metanet.generate("digits", candidates=1, seed=0)
    assert g.report.test.accuracy > 0.9


def _warn(score: float, labels, balanced: bool) -> list[str]:
    from metanet.writer.generate import _warn_if_near_chance

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        _warn_if_near_chance(score, labels, balanced, "toy", 3)
    return [str(w.message) for w in rec]


def test_chance_is_the_majority_share_for_accuracy_and_one_over_classes_for_balanced_accuracy() -> None:
    labels = torch.tensor([0] * 80 + [1] * 20)  # a constant classifier scores 0.8 plain, 0.5 balanced
    assert _warn(0.82, labels, balanced=False) and not _warn(0.86, labels, balanced=False)
    assert "candidate 3" in _warn(0.82, labels, balanced=False)[0]
    assert _warn(0.52, labels, balanced=True) and not _warn(0.56, labels, balanced=True)
    assert "balanced accuracy 0.520" in _warn(0.52, labels, balanced=True)[0]


def test_one_class_of_labels_has_no_chance_level_and_numpy_labels_count_as_tensors() -> None:
    import numpy as np

    assert not _warn(0.0, torch.zeros(10, dtype=torch.long), balanced=False)
    assert _warn(0.29, np.arange(40) % 4, balanced=False)  # chance 0.25


def test_constant_check_says_whether_it_warned() -> None:
    # generate asks for the near-chance warning only when the constant one was not given: one warning, not two
    from metanet.writer.generate import _warn_if_constant

    x, y = torch.rand(30, 4, generator=torch.Generator().manual_seed(1)) + 0.1, torch.arange(30) % 3
    m = torch.nn.Linear(4, 3)
    with torch.no_grad():
        m.weight.zero_()
        m.weight[0, 0] = 1.0
        m.bias.copy_(torch.tensor([0.0, 0.0, 0.5]))  # class 0 where x0 > 0.5, else class 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _warn_if_constant(m, (x, y), "toy", 0) is False
    with torch.no_grad():
        m.weight.zero_()
        m.bias.copy_(torch.tensor([0.0, 5.0, 0.0]))
    with pytest.warns(UserWarning, match="predicts class 1"):
        assert _warn_if_constant(m, (x, y), "toy", 0) is True
