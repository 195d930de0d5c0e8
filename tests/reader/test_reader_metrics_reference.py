"""The reader's summary metrics (R^2, Kendall tau, AUROC) against scikit-learn and scipy, on ties, constant targets
and float32 inputs."""

import math

import pytest
import torch
from scipy.stats import kendalltau
from sklearn.metrics import r2_score, roc_auc_score

from metanet.reader.lightning import auroc, kendall_tau, r2


@pytest.mark.parametrize("value", [0.1, 0.3, 0.7, 0.123])
@pytest.mark.parametrize("n", [7, 10, 33])
def test_r2_of_equal_float32_targets_is_undefined(value, n):
    # the float32 mean of seven 0.1s is off by an ulp: R^2 was about -5e15, logged as the val R^2
    true = torch.full((n,), value)
    pred = torch.linspace(0.0, 1.0, n)
    assert math.isnan(r2(pred, true))


def test_r2_matches_sklearn_on_float32_accuracies():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        n = int(torch.randint(2, 40, (1,), generator=g))
        true = torch.randint(0, 5, (n,), generator=g).float() / 10 + 0.5  # ties, float32
        if bool((true == true[0]).all()):
            continue
        pred = true + 0.05 * torch.randn(n, generator=g)
        ref = r2_score(true.double().numpy(), pred.double().numpy())
        assert r2(pred, true) == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_kendall_tau_and_auroc_match_scipy_and_sklearn_with_ties():
    g = torch.Generator().manual_seed(1)
    for _ in range(50):
        n = int(torch.randint(2, 30, (1,), generator=g))
        score = torch.randint(0, 4, (n,), generator=g).float()  # many ties
        label = torch.randint(0, 2, (n,), generator=g).float()
        tau, ref = kendall_tau(score, label), kendalltau(score.numpy(), label.numpy()).statistic
        assert (math.isnan(tau) and math.isnan(ref)) or tau == pytest.approx(ref, abs=1e-12)
        if 0 < label.sum() < n:
            assert auroc(score, label) == pytest.approx(roc_auc_score(label.numpy(), score.numpy()), abs=1e-6)
        else:  # one class: sklearn refuses, the reader's metric is undefined
            assert math.isnan(auroc(score, label))
