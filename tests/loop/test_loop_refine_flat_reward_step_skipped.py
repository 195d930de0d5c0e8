"""Weight perturbation skips a step whose rewards are all alike (every antithetic pair scored the same): it carries
no information, and stepping Adam on a zero gradient still moved the weights by its momentum from the previous,
informative step (a random walk driven by stale estimates)."""

from __future__ import annotations

import torch
from torch import nn

from metanet.loop import refine


def _net() -> nn.Linear:
    # class 0 is predicted iff w0 > w1; the margin 1e-4 is far below the first step's perturbations (1e-3)
    net = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1e-4], [0.0]]))
    return net


def test_a_flat_step_after_an_informative_one_leaves_the_weights_as_they_were() -> None:
    x, y = torch.ones(8, 1), torch.zeros(8, dtype=torch.long)
    net = _net()
    # accuracy objective: the first step's perturbations flip the prediction (informative), Adam's first step (lr 1)
    # then opens a margin of ~2 against perturbations of ~0.1 x RMS ~1: every later copy is right, the reward flat
    kw = dict(objective="accuracy", population=8, sigma=0.1, lr=1.0, seed=0, verify_on=None, num_classes=2)
    one = refine(net, (x, y), steps=1, **kw)
    three = refine(net, (x, y), steps=3, **kw)
    w = one.model.weight.detach()
    assert w[0, 0] - w[1, 0] > 1.5  # the informative step was taken, towards the right class
    assert three.history == [1.0, 1.0, 1.0]
    # the two flat steps were skipped: the very weights of the one-step run
    assert torch.equal(three.model.weight, one.model.weight), (three.model.weight - w)
