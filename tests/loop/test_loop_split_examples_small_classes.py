"""`split_examples` on a class with no more examples than ``shots``: its support keeps one example back for val,
so every class is in the val split the rewards are computed on (and in cross-fitting's folds)."""

from __future__ import annotations

import torch

from metanet.loop import split_examples

ARCH = "mlp:4-8-2:relu"


def test_a_class_with_at_most_shots_examples_keeps_one_for_val():
    g = torch.Generator().manual_seed(0)
    y = torch.tensor([0] * 10 + [1] * 3)  # class 1 has fewer examples than shots
    x = torch.randn(len(y), 4, generator=g)
    lt = split_examples(x, y, ARCH, shots=5, val=2, test=None, seed=0)
    assert torch.bincount(lt.support[1], minlength=2).tolist() == [5, 2]
    assert torch.bincount(lt.val[1], minlength=2).tolist() == [2, 1]
    assert lt.test is not None and torch.bincount(lt.test[1], minlength=2).tolist() == [3, 0]
