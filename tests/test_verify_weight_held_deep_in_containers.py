"""`verify` of networks whose forward reads a weight kept deep in plain containers (six lists down, or in a
``collections.deque``): the check for a weight held outside its registered slot stopped looking 4 containers down
(and never looked into a deque), so a verified list ran every member through ``functional_call``, which swaps only
the registered tensor: each member was scored on the first network's weight, silently."""

from __future__ import annotations

import collections

import pytest
import torch
from torch import nn

import metanet


class Deep(nn.Module):
    def __init__(self, holder: str, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc = nn.Linear(16, 4)
        w = self.fc.weight
        self.keep = [[[[[[w]]]]]] if holder == "lists" else collections.deque([w])

    def weight(self) -> torch.Tensor:
        return self.keep[0][0][0][0][0][0] if isinstance(self.keep, list) else self.keep[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight().t() + self.fc.bias


@pytest.mark.parametrize("holder", ["lists", "deque"])
def test_each_member_is_scored_on_its_own_weight_held_deep(holder):
    x, y = torch.rand(64, 16), torch.arange(64) % 4
    nets = [Deep(holder, seed) for seed in range(3)]
    together = metanet.verify(nets, (x, y))
    alone = [metanet.verify(n, (x, y)) for n in nets]
    assert [r.accuracy for r in together] == [r.accuracy for r in alone]
    assert [r.loss for r in together] == pytest.approx([r.loss for r in alone], rel=1e-5)
    assert len({r.loss for r in alone}) == 3  # three different networks
