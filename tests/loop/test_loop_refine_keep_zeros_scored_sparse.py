"""Weight perturbation with ``keep_zeros``: the perturbed networks it scores are the sparse one perturbed (its zeros
are not perturbed), not only its steps masked: a pruned weight's noise made the rewards (and so the step of every
other weight) depend on connections the network does not have."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metanet.loop import refine


def _pruned() -> nn.Linear:
    net = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.0], [0.5, 0.0]]))  # input 1 pruned
    return net


def test_a_reward_that_only_pruned_weights_could_change_gives_no_step() -> None:
    # input 0 is always 0: the kept weights do not change the logits, only the pruned column could
    x = torch.stack([torch.zeros(16), torch.randn(16, generator=torch.Generator().manual_seed(0))], 1)
    y = (x[:, 1] > 0).long()
    net = _pruned()
    res = refine(net, (x, y), steps=3, population=4, sigma=0.1, lr=0.1, verify_on=None, keep_zeros=True)
    assert torch.equal(res.model.weight, net.weight)
    # the same network without keep_zeros learns from its pruned column: the data are informative
    dense = refine(net, (x, y), steps=3, population=4, sigma=0.1, lr=0.1, verify_on=None)
    assert dense.model.weight[:, 1].abs().min() > 0


def test_the_steps_are_the_estimator_on_the_sparse_network() -> None:
    """Two steps against the rule written out with the pruned entries' noise zeroed (the same draw: the kept
    weights' noise is that of keep_zeros=False). Two: Adam's first step is ``lr`` times a sign, blind to the
    rewards' size."""
    g0 = torch.Generator().manual_seed(1)
    x = torch.randn(24, 2, generator=g0)
    y = (x[:, 0] + 2 * x[:, 1] > 0).long()
    net = _pruned()
    population, sigma, lr, bs, seed, steps = 3, 0.2, 1e-2, 16, 5, 2
    res = refine(net, (x, y), steps=steps, population=population, sigma=sigma, lr=lr, batch_size=bs, seed=seed,
                 verify_on=None, keep_zeros=True)
    mask = net.weight.detach() == 0
    w = net.weight.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        with torch.no_grad():
            idx = torch.randperm(len(y), generator=g)[:bs]
            eps = torch.randn((population, *w.shape), generator=g).masked_fill(mask, 0.0)
            scale = sigma * w.pow(2).mean().sqrt()
            r = torch.stack([-F.cross_entropy(F.linear(x[idx], w + s * scale * eps[j]), y[idx])
                             for s in (1.0, -1.0) for j in range(population)])
            diff = r[:population] - r[population:]
            w.grad = -((diff / diff.std() / population).view(-1, 1, 1) * eps).sum(0)
        opt.step()
    assert torch.allclose(res.model.weight, w.detach(), atol=1e-6), (res.model.weight - w).abs().max()
    assert torch.equal(res.model.weight == 0, mask)  # and it stays sparse
