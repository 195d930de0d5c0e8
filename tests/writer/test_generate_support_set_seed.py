"""`metanet.writer.generate.support_set`, the ``shots`` examples per class that :func:`metanet.generate` writes from:
the seed draws them, so generating with several seeds samples several support sets (a few-shot result averaged over
seeds is not one draw repeated), and the same seed draws the same ones."""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.writer.generate import support_set


def test_the_seed_draws_which_examples_of_each_class_are_the_support():
    task = tasks.get("digits")
    x0, y0 = support_set(task, 3, 0)
    again = support_set(task, 3, 0)
    assert torch.equal(x0, again[0]) and torch.equal(y0, again[1])
    assert torch.equal(torch.bincount(y0), torch.full((10,), 3))  # stratified: 3 of every class
    for seed in (1, 2):
        x, y = support_set(task, 3, seed)
        assert torch.equal(torch.bincount(y), torch.full((10,), 3))
        assert not torch.equal(x, x0), f"seed {seed} drew the support of seed 0"
