"""refine with ``objective="accuracy"`` when logits are not finite: a row with a NaN or an infinity predicts nothing
and counts as wrong, as verify counts it (argmax read NaN as the largest logit and +inf as a real prediction: a NaN
network 'scored' class 0's share, and perturbations whose outputs overflowed or turned NaN were rewarded as right).
With ``objective="loss"`` the activity rule scores a NaN cross-entropy as the worst loss too (as weight perturbation
does), not as a very good one that would steer the step into the NaN."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from metanet.loop import refine


def _nan_row_net() -> nn.Module:
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.weight[0] = math.nan  # logit 0 is NaN on every input: argmax said class 0
    return net


@pytest.mark.parametrize("method", ["perturbation", "activity"])
def test_the_history_of_a_nan_network_records_accuracy_0(method):
    x, y = torch.randn(10, 4, generator=torch.Generator().manual_seed(0)), torch.zeros(10, dtype=torch.long)
    res = refine(_nan_row_net(), (x, y), method=method, objective="accuracy", steps=2, verify_on=None)
    assert res.history == [0.0, 0.0]  # was [1.0, 1.0]: every label is class 0


# inputs of 3e38 (not in [0, 1]) are the point: refine warns of them
@pytest.mark.filterwarnings("ignore:refine examples")
def test_weight_perturbations_whose_logits_overflow_are_wrong_and_steered_away_from():
    # logit 0 = 3e38 * w0: the perturbed copies with w0 > ~1.13 overflow to +inf, which argmax read as class 0
    # (right: every label is 0), so each pair scored alike and no step was taken; now the overflowing copy is
    # wrong and the step lowers w0
    x, y = torch.full((8, 1), 3e38), torch.zeros(8, dtype=torch.long)
    net = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0], [0.0]]))
    res = refine(net, (x, y), method="perturbation", objective="accuracy", steps=1, population=4, sigma=0.5,
                 lr=0.1, verify_on=None, num_classes=2)
    assert res.model.weight[0, 0] < 1.0
    assert res.history == [1.0]  # the clean network: finite, right


class _Log(nn.Module):
    def forward(self, h):
        return torch.log(h)  # NaN for a perturbed pre-activation below 0


class _Head(nn.Module):
    """Logits (1, 0) whatever the input, NaN where it is NaN; no Linear: activity does not perturb it."""

    def forward(self, h):
        return torch.cat([1 + 0 * h, 0 * h], -1)


def _clean_loss_reward() -> float:
    return -torch.nn.functional.cross_entropy(torch.tensor([[1.0, 0.0]]), torch.tensor([0])).item()


@pytest.mark.parametrize("objective, clean", [("accuracy", lambda: 1.0), ("loss", _clean_loss_reward)])
def test_activity_perturbations_that_make_logits_nan_are_wrong_and_steered_away_from(objective, clean):
    # the clean pre-activation is 1; copies perturbed below 0 give NaN logits, which argmax read as class 0 (right):
    # every copy scored alike and the estimate was 0; now those copies are wrong and the step raises the weight. With
    # the loss every finite copy has the same loss: only the NaN copies (a NaN cross-entropy) inform the step
    net = nn.Sequential(nn.Linear(1, 1, bias=False), _Log(), _Head())
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    x, y = torch.ones(8, 1), torch.zeros(8, dtype=torch.long)
    res = refine(net, (x, y), method="activity", objective=objective, steps=1, population=8, sigma=1.0, lr=0.1,
                 verify_on=None, num_classes=2)
    assert res.model[0].weight.item() > 1.0
    assert res.history == [clean()]  # the clean network: finite
