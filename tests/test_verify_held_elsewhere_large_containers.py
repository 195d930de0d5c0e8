"""`verify`'s check for a weight kept outside its registered slot (``_held_elsewhere``, run on every network of a
verified list) on a module that also holds large plain containers: they are passed over by their element types
(walked one element at a time, a cache of a million numbers took seconds per network on every verify call; timed
by hand, not here), while a weight listed after many numbers is still found and an iterator attribute is not
consumed."""

from __future__ import annotations

import torch
from torch import nn

from metanet.verify import _held_elsewhere


class Cached(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 3)
        self.cache = list(range(n))
        self.vocab = {str(i): i for i in range(n)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def test_a_weight_after_many_numbers_is_still_found_and_iterators_are_left_alone() -> None:
    net = Cached(10)
    net.cache = [*range(5000), [net.fc.weight]]
    net.pending = iter([1, 2, 3])
    assert _held_elsewhere(net)
    assert list(net.pending) == [1, 2, 3]
