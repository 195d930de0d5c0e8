"""Gradient-free refinement: weight perturbation repairs a deliberately weakened network."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import MetanetError
from metanet.loop import refine
from metanet.nets import build


@pytest.fixture(scope="module")
def weakened(digits_pool):
    """A trained digits MLP whose weights are then disturbed by noise (its accuracy drops)."""
    x, y = digits_pool
    torch.manual_seed(0)
    net = build("mlp:64-16-10:relu", seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.6 * p.abs().mean() * torch.randn(p.shape, generator=g))
    return net.eval()


def test_perturbation_refinement_improves_a_weakened_network(weakened):
    before_w = {k: v.clone() for k, v in weakened.state_dict().items()}
    res = refine(weakened, "digits", method="perturbation", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert res.before.split == "val" and res.after.split == "val"
    assert res.after.accuracy > res.before.accuracy + 0.03, (res.before.accuracy, res.after.accuracy)
    assert all(torch.equal(v, weakened.state_dict()[k]) for k, v in before_w.items())  # input untouched
    again = refine(weakened, "digits", method="perturbation", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert again.after.accuracy == res.after.accuracy  # deterministic


def test_sgd_refinement_for_comparison(weakened, digits_pool):
    res = refine(weakened, digits_pool, method="sgd", steps=30, verify_on=digits_pool, num_classes=10)
    assert res.after.accuracy > res.before.accuracy


def test_refine_errors_name_the_valid_choices(weakened):
    with pytest.raises(MetanetError, match="valid: perturbation, sgd"):
        refine(weakened, "digits", method="annealing")
    with pytest.raises(MetanetError, match="population >= 1"):
        refine(weakened, "digits", population=0)
