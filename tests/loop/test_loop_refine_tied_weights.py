"""refine(method="perturbation") on a network whose layers share one weight Parameter: the perturbed population ran
on a meta copy in which ``.to("meta")`` had untied them, so the layer holding the shared weight under its second name
read uninitialised memory and every step followed garbage rewards. The same network written with one layer called
twice (no tie to keep) is refined to the very same weights."""

from __future__ import annotations

import torch
from torch import nn

import metanet


class TiedTwice(nn.Module):
    """Two Linear layers sharing one weight and one bias, then a head."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.h = nn.Linear(64, 32), nn.Linear(64, 32), nn.Linear(32, 10)
        self.mix = nn.Linear(32, 64)
        self.b.weight, self.b.bias = self.a.weight, self.a.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.a(x.flatten(1)))
        return self.h(torch.relu(self.b(torch.relu(self.mix(x)))))


class CalledTwice(TiedTwice):
    """The same function with layer ``a`` called where TiedTwice calls ``b``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.a(x.flatten(1)))
        return self.h(torch.relu(self.a(torch.relu(self.mix(x)))))


def test_perturbation_refine_of_tied_weights_perturbs_them_in_every_layer():
    torch.manual_seed(0)
    tied = TiedTwice()
    twice = CalledTwice()
    twice.load_state_dict(tied.state_dict())
    kw = dict(method="perturbation", steps=3, population=4, seed=0)
    a = metanet.refine(tied, "digits", **kw)
    b = metanet.refine(twice, "digits", **kw)
    assert a.history == b.history
    for (name, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.equal(p, q), name
    assert a.model.a.weight is a.model.b.weight  # the refined copy keeps the tie
    assert a.after.accuracy == b.after.accuracy
