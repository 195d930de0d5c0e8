"""generate's check that a task object's splits share no examples keeps a short digest of each example, not a copy of
its bytes: a whole training split given as the support (shots=None) was held twice while the check ran (a set of
every row's bytes: ~190 MB more for 60,000 MNIST-sized examples, ~600 MB for CIFAR-sized ones), for a warning."""

from __future__ import annotations

import tracemalloc
import warnings

import torch

from metanet.writer.generate import _warn_if_splits_shared


class _TestSplit:
    """A task object whose test split is the given examples."""

    num_classes = 2

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def split(self, name: str):
        return self.x, torch.zeros(len(self.x), dtype=torch.long)


def test_the_check_does_not_copy_the_support_and_still_finds_shared_examples():
    g = torch.Generator().manual_seed(0)
    support = torch.rand(20_000, 784, generator=g)  # 62.7 MB of float32
    val = torch.cat([support[:7], torch.rand(993, 784, generator=g)])  # 7 of 1000 in the support
    test = torch.cat([val[10:13], support[100:105], torch.rand(992, 784, generator=g)])
    task = _TestSplit(test)
    tracemalloc.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _warn_if_splits_shared(task, support, val, True, "t")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the rows' bytes were ~66 MB of Python objects; their digests are ~2 MB
    assert peak < support.numel() * 4 / 10, f"{peak / 1e6:.1f} MB traced"
    (w,) = caught
    msg = str(w.message)
    assert "7 of its 1000 validation examples are in the support set" in msg
    assert "3 of its 1000 test examples are in the validation split" in msg
    assert "5 of its 1000 test examples are in the support set" in msg
