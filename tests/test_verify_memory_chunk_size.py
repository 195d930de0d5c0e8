"""`metanet.verify`'s memory guard measures one example's activations per example: the probe runs a batch of two
examples, and a layer's output counted whole (both examples) doubled the estimate, so batches were cut into chunks
half the size that fits (and a population that fits was refused as needing twice the memory). The chunk size is
exact: halving the batch until K networks' three widest outputs fit a quarter of the memory."""

from __future__ import annotations

import sys

import torch
from torch import nn

import metanet
import metanet.verify  # noqa: F401 - the module (``metanet.verify`` the attribute is the function)
from metanet.tasks import from_examples

V = sys.modules["metanet.verify"]


class _Recorder(nn.Module):
    """An MLP 6 -> 32 -> 3 that records the batch sizes it is run on (a class attribute: verify runs a copy)."""

    seen: list[int] = []

    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        if x.device.type != "meta":
            _Recorder.seen.append(x.shape[0])
        return self.net(x)


def test_chunks_are_the_largest_halving_that_fits(monkeypatch):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 6, generator=g)
    task = from_examples(x, (x[:, 0] > 0.5).long() + (x[:, 1] > 0.5).long(), val_fraction=0, test_fraction=0)
    models = [_Recorder(s) for s in range(4)]
    # 3 layers' outputs x 4 networks x 32 numbers x 4 bytes: 1536 bytes per example; a quarter of this holds 64
    monkeypatch.setattr(V, "physical_memory", lambda: 4 * 64 * 1536, raising=False)
    _Recorder.seen.clear()
    metanet.verify(models, task, split="train")
    # 300 -> 150 -> 75 -> 38 examples a chunk (38 <= 64 fit; 19 would be twice as many passes)
    assert _Recorder.seen[1:] == [38] * 7 + [34]
