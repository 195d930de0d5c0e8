"""Necessity pruning's acceptance and bookkeeping on a network whose every connection is known
(``_necessity`` in ``metanet/edit/edits.py``): 2 inputs -> 2 hidden -> 2 classes, both weight layers the identity.
Of its 8 weights 4 are 0 already and each layer keeps its largest (the [0, 0] one), so the only removable ones are
the two [1, 1] weights: the path of class 1. Of 30 calibration examples one is class 1: removing either weight
costs exactly 1/30 of accuracy (its input then scores (0, 0), which goes to class 0)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit


class TwoPaths:
    """29 examples (1, 0) of class 0 and one (0, 1) of class 1, in every split."""

    num_classes = 2
    input_shape = (2,)
    name = "two-paths"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.tensor([[1.0, 0.0]] * 29 + [[0.0, 1.0]])
        return x, torch.tensor([0] * 29 + [1])


def _net() -> nn.Sequential:
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[2].weight.copy_(torch.eye(2))
    return net.eval()


def _prune(tolerance: float):
    return edit.prune(_net(), 0.75, TwoPaths(), method="necessity", tolerance=tolerance)


def _weights(model: nn.Sequential) -> list[list[list[float]]]:
    return [model[0].weight.tolist(), model[2].weight.tolist()]


@pytest.mark.parametrize("tolerance", [0.0, 0.03])  # both below the 1/30 = 0.0333 a removal costs
def test_a_removal_costing_more_than_the_tolerance_is_measured_necessary_once(tolerance):
    result = _prune(tolerance)
    d = result.report.details
    # each of the two weights tried alone, once (a refused one is never measured again), refused, then forced: the
    # target of 6 zeros of 8 needs them
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (2, 0, 2, 2)
    assert d["calibration_accuracy"] == [1.0, 29 / 30]
    assert d["sparsity_before"] == 0.5 and d["sparsity"] == 0.75
    assert _weights(result.model) == [[[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]]


def test_a_removal_within_the_tolerance_is_accepted_free():
    d = _prune(0.04).report.details  # 1/30 <= 0.04: the first removal is free, the second costs nothing more
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (2, 2, 0, 0)
    assert d["calibration_accuracy"] == [1.0, 29 / 30]


def test_a_target_the_free_removals_reach_forces_nothing():
    d = edit.prune(_net(), 0.625, TwoPaths(), method="necessity", tolerance=0.04).report.details
    assert (d["evaluations"], d["accepted_free"], d["measured_necessary"], d["forced"]) == (1, 1, 0, 0)
    assert d["sparsity"] == 0.625
