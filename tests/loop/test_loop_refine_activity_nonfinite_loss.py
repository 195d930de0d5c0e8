"""Activity perturbation with ``objective="loss"``: a perturbed copy whose cross-entropy is NaN scores as the worst
loss (as weight perturbation scores it), not as a very good one that would steer the step into the NaN."""

from __future__ import annotations

import torch
from torch import nn

from metanet.loop import refine


class _Log(nn.Module):
    def forward(self, h):
        return torch.log(h)  # NaN for a perturbed pre-activation below 0


class _Head(nn.Module):
    """Logits (1, 0) whatever the input, NaN where it is NaN; no Linear: activity does not perturb it."""

    def forward(self, h):
        return torch.cat([1 + 0 * h, 0 * h], -1)


def test_activity_perturbations_with_a_nan_loss_are_worst_and_steered_away_from() -> None:
    # the clean pre-activation is 1; copies perturbed below 0 give NaN logits, hence a NaN cross-entropy, and every
    # finite copy has the same loss: only the NaN copies inform the step, which must raise the weight (away from 0)
    net = nn.Sequential(nn.Linear(1, 1, bias=False), _Log(), _Head())
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    x, y = torch.ones(8, 1), torch.zeros(8, dtype=torch.long)
    res = refine(net, (x, y), method="activity", objective="loss", steps=1, population=8, sigma=1.0, lr=0.1,
                 verify_on=None, num_classes=2)
    assert res.model[0].weight.item() > 1.0
    clean = -torch.nn.functional.cross_entropy(torch.tensor([[1.0, 0.0]]), torch.tensor([0])).item()
    assert res.history == [clean]  # the clean network: finite
