"""`metanet.verify` in memory-sized chunks whose last chunk holds a single example (13 examples in chunks of 4:
4, 4, 4, 1): every example is scored, the same as in one pass."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

import metanet
import metanet.verify  # noqa: F401 - the module (``metanet.verify`` the attribute is the function)
from metanet.tasks import from_examples

V = sys.modules["metanet.verify"]


def test_a_last_chunk_of_one_example_is_scored(monkeypatch):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(13, 6, generator=g)
    task = from_examples(x, (x[:, 0] > 0.5).long(), val_fraction=0, test_fraction=0)
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2)) for _ in range(4)]
    whole = metanet.verify(models, task, split="train")
    # 3 layers' outputs of 4 networks, 32 float32 numbers each: 1536 bytes an example; a quarter of this holds 5,
    # so 13 examples are halved to chunks of 4
    monkeypatch.setattr(V, "physical_memory", lambda: 4 * 5 * 1536, raising=False)
    chunked = metanet.verify(models, task, split="train")
    for a, b in zip(whole, chunked):
        assert (b.n, b.accuracy, b.per_class) == (13, a.accuracy, a.per_class)
        assert b.loss == pytest.approx(a.loss, rel=1e-6)
