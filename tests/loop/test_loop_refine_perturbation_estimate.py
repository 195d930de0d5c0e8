"""Weight perturbation's estimate (issue 8 point 4), checked through refine's first step: Adam's first step moves
every weight by ``lr`` times the sign of its gradient, so the step shows the estimate's direction. With many
antithetic pairs on a tiny linear model it agrees with the exact gradient of the reward, a zero bias included (its
perturbation scale is floored, else it got pure noise); and ``sigma`` is relative to each tensor's RMS: a layer
scaled by 8 (its input by 1/8: the same function, bit for bit) takes the very same step."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet.loop import refine


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 4, generator=g)
    return x, (x[:, 0] - x[:, 1] > 0).long() + (x[:, 2] > 0.8).long()


def _linear() -> nn.Linear:
    torch.manual_seed(0)
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.bias.zero_()  # a fresh zero bias: its RMS is 0
    return net


@pytest.mark.parametrize("zero", [False, True], ids=["trained-like", "all-zero"])
def test_first_step_follows_the_exact_gradient_of_the_reward(zero: bool) -> None:
    x, y = _data()
    net = _linear()
    if zero:  # every tensor's RMS is 0: each is perturbed at the floor (sigma * 0.01), none is left out
        with torch.no_grad():
            net.weight.zero_()
    loss = F.cross_entropy(net(x), y)  # the whole data is the one minibatch
    ascent = torch.autograd.grad(loss, list(net.parameters()))
    lr = 1e-3
    res = refine(net, (x, y), steps=1, population=512, sigma=0.01, lr=lr, batch_size=len(y), verify_on=None)
    for (name, p), q, a in zip(net.named_parameters(), res.model.parameters(), ascent):
        if name == "bias" and not zero:
            continue  # perturbed at 1e-4 beside weights perturbed at 5e-3: far too faint for 512 pairs
        step = (q - p).detach()
        assert torch.allclose(step.abs(), torch.full_like(step, lr), rtol=1e-3), name  # Adam's first step
        cos = F.cosine_similarity(step.flatten(), -a.flatten(), dim=0).item()
        best = F.cosine_similarity(-a.sign().flatten(), -a.flatten(), dim=0).item()  # every sign right
        assert cos > 0.95 * best, (name, cos, best)
    # the step lowered the loss it estimated the gradient of
    assert F.cross_entropy(res.model(x), y) < loss


def test_sigma_is_relative_to_each_tensors_rms() -> None:
    x, y = _data()
    net = _linear()
    scaled = _linear()
    with torch.no_grad():
        scaled.weight.mul_(8)  # powers of two: every product below is the same number
    kw = dict(steps=1, population=4, sigma=0.05, lr=1e-3, batch_size=16, seed=3, verify_on=None)
    a = refine(net, (x, y), **kw).model
    b = refine(scaled, (x / 8, y), **kw).model
    assert torch.equal(scaled(x / 8), net(x))
    # the same perturbations relative to each weight: the same rewards, the same step (lr times a sign; compared as
    # signs: the scaled weight's sum rounds differently)
    for p, q, p0, q0 in ((a.weight, b.weight, net.weight, scaled.weight), (a.bias, b.bias, net.bias, scaled.bias)):
        assert torch.equal((q - q0).sign(), (p - p0).sign())
        assert (p - p0).abs().min() > 0.5e-3  # every weight took its step


def test_steps_are_the_documented_estimator_standardised_per_step() -> None:
    """Two steps against the rule written out: antithetic pairs ``theta +- sigma_l eps``, reward minus the
    cross-entropy, ``g = sum_j (R+ - R-)_j / std(R+ - R-) / P * eps_j`` ascended by Adam. Standardising each step
    matters past Adam's first step: a step whose rewards spread 100 times wider weighed 100 times more in Adam's
    moments (constant factors, such as ``1 / P``, Adam ignores)."""
    x, y = _data()
    net = _linear()
    population, sigma, lr, bs, steps = 3, 0.05, 1e-2, 16, 2
    res = refine(net, (x, y), steps=steps, population=population, sigma=sigma, lr=lr, batch_size=bs, seed=4,
                 verify_on=None)
    params = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = torch.optim.Adam(params.values(), lr=lr)
    g = torch.Generator().manual_seed(4)
    for _ in range(steps):
        idx = torch.randperm(len(y), generator=g)[:bs]
        eps = {n: torch.randn((population, *p.shape), generator=g) for n, p in params.items()}
        scale = {n: sigma * p.pow(2).mean().sqrt().clamp_min(1e-2) for n, p in params.items()}

        def reward(sign: float, j: int) -> torch.Tensor:
            w, b = (params[n] + sign * scale[n] * eps[n][j] for n in ("weight", "bias"))
            return -F.cross_entropy(F.linear(x[idx], w, b), y[idx])

        diff = torch.stack([reward(1.0, j) - reward(-1.0, j) for j in range(population)])
        w = diff / diff.std() / population
        for n, p in params.items():
            p.grad = -(w.view(-1, *[1] * p.dim()) * eps[n]).sum(0)
        opt.step()
    for n, p in res.model.named_parameters():
        assert torch.allclose(p, params[n], atol=1e-6), (n, (p - params[n]).abs().max())


def test_perturbations_whose_loss_is_not_finite_score_worst() -> None:
    # logit 0 = 3e38 * w0: copies perturbed to w0 > ~1.13 overflow to +inf and their cross-entropy is NaN; they
    # must score as the worst reward (a NaN read as the best one steered the step into the overflow)
    x, y = torch.full((8, 1), 3e38), torch.zeros(8, dtype=torch.long)
    net = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0], [0.0]]))
    res = refine(net, (x, y), steps=1, population=4, sigma=0.5, lr=0.1, verify_on=None, num_classes=2)
    assert res.history == [0.0]  # the clean network: finite, right
    assert res.model.weight[0, 0] < 1.0
