"""fold_ids finds each class's examples with one stable sort of the labels: the same folds as the per-class scan it
replaced (a scan of the labels per class, quadratic with thousands of classes), and the labels read a fixed number
of times whatever the number of classes."""

from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from metanet.loop import fold_ids


def _fold_ids_per_class_scan(y: torch.Tensor, num_classes: int, folds: int, seed: int = 0) -> torch.Tensor:
    """fold_ids as it was (after its checks): a scan of y per class, each class's rows shuffled and dealt in turn."""
    g = torch.Generator().manual_seed(seed % 2**64)
    out = torch.empty(len(y), dtype=torch.long)
    offset = 0
    for c in range(num_classes):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        out[idx] = (torch.arange(len(idx)) + offset) % folds
        offset += len(idx)
    return out


def _labels(num_classes: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """Random labels, every class at least twice (fold_ids needs that), in a shuffled order."""
    extra = torch.randint(num_classes, (n - 2 * num_classes,), generator=gen)
    y = torch.cat([torch.arange(num_classes).repeat(2), extra])
    return y[torch.randperm(len(y), generator=gen)]


@pytest.mark.parametrize("num_classes,n,folds", [(2, 4, 2), (3, 14, 4), (10, 50, 5), (10, 500, 3), (137, 400, 2),
                                                 (2000, 5000, 5)])
@pytest.mark.parametrize("seed", [0, 1, 3, 2**70, -1])
def test_fold_ids_match_the_per_class_scan(num_classes, n, folds, seed):
    y = _labels(num_classes, n, torch.Generator().manual_seed(num_classes * 1000 + n))
    assert torch.equal(fold_ids(y, num_classes, folds, seed), _fold_ids_per_class_scan(y, num_classes, folds, seed))


def test_fold_ids_match_the_per_class_scan_on_sorted_and_int32_labels():
    y = torch.arange(30).repeat_interleave(3)  # sorted: each class's rows contiguous
    assert torch.equal(fold_ids(y, 30, 4, 7), _fold_ids_per_class_scan(y, 30, 4, 7))
    y = _labels(40, 200, torch.Generator().manual_seed(5)).to(torch.int32)
    assert torch.equal(fold_ids(y, 40, 3, 2), _fold_ids_per_class_scan(y, 40, 3, 2))


class _CountUses(TorchFunctionMode):
    """Counts the torch calls that take ``y`` itself as an argument."""

    def __init__(self, y: torch.Tensor) -> None:
        super().__init__()
        self.y, self.uses = y, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if any(a is self.y for a in (*args, *kwargs.values())):
            self.uses += 1
        return func(*args, **kwargs)


def _uses(num_classes: int) -> int:
    y = _labels(num_classes, 4 * num_classes, torch.Generator().manual_seed(0))
    with _CountUses(y) as mode:
        fold_ids(y, num_classes, 3)
    return mode.uses


def test_fold_ids_read_the_labels_a_fixed_number_of_times():
    # the per-class scan compared all labels with every class: 10 more reads for 10 more classes
    assert _uses(10) == _uses(20) == _uses(300)
