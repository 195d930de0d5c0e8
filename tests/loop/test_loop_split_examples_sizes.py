"""`split_examples` cuts ``shots`` support, ``val`` val and the next ``test`` test examples per class (all the rest
only with ``test=None``): ``test=30`` gave a test split of every remaining example, so a held-out score meant for 30
per class ran on the whole pool."""

from __future__ import annotations

import torch

from loop_helpers import ARCH
from metanet.loop import split_examples


def test_each_part_has_its_count_per_class(digits_pool):
    x, y = digits_pool
    k = 10
    lt = split_examples(x, y, ARCH, shots=4, val=6, test=5, seed=3)
    for part, n in ((lt.support, 4), (lt.val, 6), (lt.test, 5)):
        assert torch.equal(torch.bincount(part[1], minlength=k), torch.full((k,), n))
    rest = split_examples(x, y, ARCH, shots=4, val=6, test=None, seed=3)
    assert len(rest.test[1]) == len(y) - 10 * k and torch.equal(rest.support[0], lt.support[0])
