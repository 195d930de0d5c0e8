"""`metanet.verify.verify_stacked` of a network without parameters whose members differ only in their buffers
(prototypes kept as buffers), where the forward reads a buffer through a plain list: each member is scored on its own
buffers, as with a listed parameter. ``functional_call`` swaps only the registered buffer, so every member read the
module's own prototypes and all scored alike."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from metanet.verify import verify_stacked


class _Prototypes(nn.Module):
    """Nearest-prototype logits, the prototypes a buffer read through a plain list."""

    def __init__(self, protos: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("protos", protos.clone())
        self.cache = [self.protos]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.cdist(x, self.cache[0])


def test_each_member_is_scored_on_its_own_listed_buffer() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 8, generator=g) * 3
    y = torch.arange(3).repeat(40)
    x = centres[y] + torch.randn(len(y), 8, generator=g)
    members = torch.stack([centres, centres.roll(1, 0), torch.zeros(3, 8)])  # right, permuted, all alike
    with torch.no_grad():
        want = [(_Prototypes(p)(x).argmax(1) == y).double().mean().item() for p in members]
    assert len(set(want)) == 3
    module = _Prototypes(torch.randn(3, 8, generator=g))
    before = module.protos.clone()
    task = SimpleNamespace(name="toy", num_classes=3)
    got = [r.accuracy for r in verify_stacked(module, {}, task, data=(x, y), buffers={"protos": members})]
    assert got == pytest.approx(want, abs=1e-12)
    assert torch.equal(module.protos, before) and module.cache[0] is module.protos
