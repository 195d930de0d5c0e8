"""verify's Report figures against references: accuracy and per-class accuracy against scikit-learn, the loss
against torch's float64 cross-entropy; on imbalanced labels with an absent class, one example, and in batches."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, recall_score
from torch import nn

from metanet.verify import verify_stacked


def _reports(net: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: int, batch_size: int):
    task = SimpleNamespace(name="t", num_classes=classes)  # with data=, any object with name and num_classes
    params = {k: v.detach()[None] for k, v in net.named_parameters()}
    return verify_stacked(net, params, task, data=(x, y), batch_size=batch_size)[0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch_size", [1, 7, 4096])
def test_report_matches_sklearn_and_float64_cross_entropy(dtype, batch_size):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(103, 5, generator=g)
    y = torch.where(torch.rand(103, generator=g) < 0.8, 1, 0)  # imbalanced; class 2 has no example
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).to(dtype)
    r = _reports(net, x, y, 3, batch_size)
    with torch.no_grad():
        logits = net(x.to(dtype)).double()
    pred = logits.argmax(1).numpy()
    assert r.n == 103
    assert r.accuracy == pytest.approx(accuracy_score(y.numpy(), pred), abs=1e-15)
    # per-class accuracy is each class's recall; NaN for the class without examples
    recall = recall_score(y.numpy(), pred, labels=[0, 1], average=None)
    assert r.per_class[:2] == pytest.approx(recall.tolist(), abs=1e-15) and math.isnan(r.per_class[2])
    ref = F.cross_entropy(logits, y).item()
    assert r.loss == pytest.approx(ref, rel=1e-6 if dtype == torch.float32 else 1e-12)


def test_one_example_and_a_single_class():
    torch.manual_seed(1)
    net = nn.Linear(4, 2)
    x, y = torch.randn(1, 4), torch.tensor([1])
    r = _reports(net, x, y, 2, 4096)
    with torch.no_grad():
        logits = net(x).double()
    assert r.n == 1 and r.accuracy == float(logits.argmax(1).item() == 1)
    assert math.isnan(r.per_class[0]) and r.per_class[1] == r.accuracy
    assert r.loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    assert np.isfinite(r.loss)
