"""The selectivity index of `metanet.reader.roles.role_codes`, computed by hand on a 2-neuron toy: mu_rest is the mean
over the OTHER classes the batch holds (divided by their count, not by every class, nor by the classes the labels
could take), and the index is (mu_max - mu_rest) / (mu_max + mu_rest), selective above SELECTIVITY."""

from __future__ import annotations

import pytest
import torch

from metanet.reader.roles import POLY, SELECTIVITY, role_codes


def _toy() -> tuple[torch.Tensor, torch.Tensor]:
    """Activations (1, 9, 2) and labels: 3 examples of each of classes 0, 1, 2, each class's as (v, -v, 0), so the
    median over the batch is 0 and the response r = |a| has class means v * 2 / 3."""
    y = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    per_class = {0: (1.0, 0.1), 1: (0.4, 1.0), 2: (0.4, 0.1)}  # class: (v of neuron 0, v of neuron 1)
    a = torch.zeros(9, 2)
    for c, vs in per_class.items():
        for j, v in enumerate(vs):
            a[3 * c:3 * c + 3, j] = torch.tensor([v, -v, 0.0])
    return a[None], y


def _index(mu: list[float]) -> float:
    top = max(mu)
    rest = (sum(mu) - top) / (len(mu) - 1)
    return (top - rest) / (top + rest)


def test_the_toys_indices_by_hand():
    # neuron 0: mu = (2/3, 0.8/3, 0.8/3): index 0.4 / 0.933 = 0.43, polysemantic (dividing mu_rest's sum by all 3
    # classes gave 0.58, dropping mu_rest from the denominator 0.6: both selective)
    assert _index([2 / 3, 0.8 / 3, 0.8 / 3]) == pytest.approx(3 / 7)
    assert _index([2 / 3, 0.8 / 3, 0.8 / 3]) < SELECTIVITY
    # neuron 1: mu = (0.2/3, 2/3, 0.2/3): index 0.6 / 0.733 = 0.82, selective for class 1
    assert _index([0.2 / 3, 2 / 3, 0.2 / 3]) == pytest.approx(9 / 11)


@pytest.mark.parametrize("num_classes", [3, 4, 10])  # classes the batch does not hold do not count in mu_rest
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_role_codes_follow_the_selectivity_index(num_classes, dtype):
    acts, y = _toy()
    codes = role_codes(acts.to(dtype), y, num_classes)
    assert codes.tolist() == [[POLY, 2 + 1]]


def test_the_class_is_the_one_of_the_largest_response_among_the_classes_held():
    acts, y = _toy()
    # labels 0, 1, 2 renamed 0, 5, 7: the same index, neuron 1 selective for class 5
    codes = role_codes(acts, torch.tensor([0, 5, 7]).repeat_interleave(3), 8)
    assert codes.tolist() == [[POLY, 2 + 5]]
