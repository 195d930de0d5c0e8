"""`augment_support` decides from the classes present in the support set, and `neighbour_correlation` from enough
examples: a label id with no examples is not a class of 0 examples, and two examples have no correlation to speak
of (any two differ by one pattern, so every position's correlation with its neighbour is +1 or -1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metanet.writer.augment import SMOOTH, augment_support, neighbour_correlation


def _smooth_images(n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return F.avg_pool2d(torch.randn(n, 1, 12, 12, generator=g), 3, stride=1, padding=1)


def test_label_ids_without_examples_do_not_lower_the_median_class_count():
    x = _smooth_images(20)
    assert neighbour_correlation(x) > SMOOTH  # images: only the class counts decide
    y = torch.tensor([0, 4] * 10)  # 10 examples of classes 0 and 4, none of 1..3
    xa, ya = augment_support(x, y, "shift", below=5)
    assert xa is x and ya is y  # 10 per class is more than 5: left as given
    assert len(augment_support(x, y, "shift", below=10)[0]) == 5 * len(x)  # at the threshold: shifted copies


def test_two_examples_are_too_few_for_a_neighbour_correlation():
    x = _smooth_images(2)
    assert neighbour_correlation(x) is None
    y = torch.tensor([0, 1])
    xa, ya = augment_support(x, y, "shift", below=5)
    assert xa is x and ya is y
    assert neighbour_correlation(_smooth_images(3)) is not None  # three are enough
