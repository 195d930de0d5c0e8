"""The loop's math against its docstrings, on hand-built cases: the expert / awr distillation losses (winners, ties,
softmax(advantage / beta) weights, T² KL at temperature T, broken candidates left out) and the pg update's
direction on a toy writer whose true gradient is known; refine's weight- and activity-perturbation steps equal the
documented formulas computed one perturbed network at a time, and the weight estimate follows autograd's gradient;
refine logs one summary of its skipped non-finite steps."""

from __future__ import annotations

import copy
import logging
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from loop_helpers import toy_task

import metanet.loop.core as core
from metanet.loop import LoopConfig, refine
from metanet.loop.rewards import WORST, AccuracyReward
from metanet.nets import build

ARCH = "mlp:4-3-2:relu"


class FixedWriter:
    """A toy writer: its K candidates are fixed tensors (``own``) or K copies of one shared network (``shared``)."""

    def __init__(self, k: int, shared: bool = False, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        names = build(ARCH, seed=0).state_dict()
        self.k, self.shared = k, shared
        shape = (lambda v: v.shape) if shared else (lambda v: (k, *v.shape))
        self.params = {n: torch.randn(shape(v), generator=g).requires_grad_() for n, v in names.items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        assert candidates == self.k
        if self.shared:
            return {n: v.unsqueeze(0).expand(self.k, *v.shape) for n, v in self.params.items()}
        return {n: v * 1 for n, v in self.params.items()}


@pytest.fixture
def task():
    return toy_task(ARCH)


def _rewarded(monkeypatch, rewards):
    """Score every candidate with the given rewards (a list, or a function of the candidates' parameters)."""
    def score(lt, params, reward):
        r = rewards(params) if callable(rewards) else torch.tensor(rewards, dtype=torch.float64)
        return r, [SimpleNamespace(accuracy=0.5)] * len(r)

    monkeypatch.setattr(core, "score_candidates", score)


def _probs(writer, x, t):
    """Each candidate's softened prediction on x, computed one network at a time (no vmap)."""
    out = []
    for i in range(writer.k):
        net = build(ARCH, seed=0)
        net.load_state_dict({n: (v if writer.shared else v[i]).detach() for n, v in writer.params.items()})
        out.append(F.softmax(net(x) / t, -1))
    return torch.stack(out)


def _distil(target, probs, t):
    """T² times the mean over candidates and examples of KL(target || candidate)."""
    kl = (target * (target.log() - probs.log())).sum(-1)
    return kl.mean() * t * t


def _loss(writer, lt, rewards, monkeypatch, **cfg):
    _rewarded(monkeypatch, rewards)
    loss, stats = core._task_loss(writer, lt, LoopConfig(candidates=writer.k, mixup=0, **cfg), AccuracyReward(), 5)
    return loss, stats


def test_expert_distils_the_mean_softened_prediction_of_the_keep_best(task, monkeypatch):
    w = FixedWriter(4)
    loss, stats = _loss(w, task, [0.3, 0.9, 0.1, 0.7], monkeypatch, method="expert", keep=2, temperature=3.0)
    p = _probs(w, task.support[0], 3.0)
    assert stats["winners"] == 2
    assert loss.item() == pytest.approx(_distil((p[1] + p[3]) / 2, p, 3.0).item(), rel=1e-5)
    # not the T=1 KL: the temperature is applied to the teacher and the students, and T² scales the result
    assert loss.item() != pytest.approx(_distil((p[1] + p[3]) / 2, p, 1.0).item(), rel=1e-2)


@pytest.mark.parametrize("k", [4, 32])
def test_expert_ties_go_to_the_lower_index_as_choose_picks(task, monkeypatch, k):
    """From 17 candidates on the default sort put tied rewards' higher indices first: all K tied at K=32, the
    winner was candidate 16 (choose() and evaluate() pick candidate 0)."""
    w = FixedWriter(k)
    loss, _ = _loss(w, task, [0.5] * k, monkeypatch, method="expert", keep=1, temperature=2.0)
    p = _probs(w, task.support[0], 2.0)
    assert loss.item() == pytest.approx(_distil(p[0], p, 2.0).item(), rel=1e-5)
    loss2, _ = _loss(w, task, [0.5] * k, monkeypatch, method="expert", keep=2, temperature=2.0)
    assert loss2.item() == pytest.approx(_distil((p[0] + p[1]) / 2, p, 2.0).item(), rel=1e-5)


def test_awr_weights_are_the_softmax_of_standardised_advantage_over_beta(task, monkeypatch):
    w = FixedWriter(4)
    r = [0.2, 0.5, 0.5, 0.8]
    loss, stats = _loss(w, task, r, monkeypatch, method="awr", beta=0.5, temperature=2.0)
    mean = sum(r) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in r) / 3)  # the sample standard deviation
    e = [math.exp((v - mean) / std / 0.5) for v in r]
    weights = [v / sum(e) for v in e]
    assert weights[3] == pytest.approx(0.8473, abs=1e-4)  # by hand: e^2.449 / (e^-2.449 + 2 + e^2.449)
    p = _probs(w, task.support[0], 2.0)
    target = sum(wi * pi for wi, pi in zip(weights, p))
    assert loss.item() == pytest.approx(_distil(target, p, 2.0).item(), rel=1e-5)
    assert stats["winners"] == 1  # weights above 1/K: only candidate 3's


def test_awr_leaves_a_broken_candidate_out(task, monkeypatch):
    """A WORST candidate gets weight 0, is left out of the standardisation and of the loss."""
    w = FixedWriter(4)
    loss, stats = _loss(w, task, [0.2, WORST, 0.5, 0.8], monkeypatch, method="awr", beta=1.0, temperature=2.0)
    good = [0.2, 0.5, 0.8]
    mean = sum(good) / 3
    std = math.sqrt(sum((v - mean) ** 2 for v in good) / 2)
    e = [math.exp((v - mean) / std) for v in good]
    p = _probs(w, task.support[0], 2.0)[[0, 2, 3]]
    target = sum(v / sum(e) * pi for v, pi in zip(e, p))
    assert stats["broken"] == 1
    assert loss.item() == pytest.approx(_distil(target, p, 2.0).item(), rel=1e-5)


def test_pg_ascends_the_true_gradient_of_a_linear_reward(task, monkeypatch):
    """K copies of one network theta, reward c . theta_i: the expected reward's gradient is c, and the update
    (minus the loss's gradient) points along it; with c negated it points the other way."""
    for sign in (1.0, -1.0):
        w = FixedWriter(512, shared=True)
        c = {n: sign * torch.randn(v.shape, generator=torch.Generator().manual_seed(9)) for n, v in w.params.items()}

        def linear(params):
            return sum((params[n].detach() * c[n]).flatten(1).sum(1) for n in c).double()

        loss, stats = _loss(w, task, linear, monkeypatch, method="pg", sigma=0.05)
        loss.backward()
        step = torch.cat([-w.params[n].grad.flatten() for n in c])
        cos = F.cosine_similarity(step, torch.cat([c[n].flatten() for n in c]), dim=0).item()
        assert cos > 0.9, (sign, cos)
        assert 200 < stats["winners"] < 312  # advantage > 0: about half of the 512


def test_weight_perturbation_step_equals_the_formula_one_network_at_a_time():
    torch.manual_seed(0)
    net = build("mlp:8-6-3:relu", seed=0)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 8, generator=g), torch.randint(0, 3, (40,), generator=g)
    pop, sigma, lr, bs = 5, 0.05, 1e-2, 16
    res = refine(net, (x, y), method="perturbation", steps=1, population=pop, sigma=sigma, lr=lr, batch_size=bs,
                 verify_on=None, num_classes=3, seed=4)
    # the same draws refine makes, in its order: the batch, then one eps per parameter tensor
    g = torch.Generator().manual_seed(4)
    idx = torch.randperm(40, generator=g)[:bs]
    params = dict(net.named_parameters())
    eps = {n: torch.randn((pop, *p.shape), generator=g) for n, p in params.items()}
    scale = {n: sigma * max(p.detach().pow(2).mean().sqrt().item(), 1e-2) for n, p in params.items()}

    def reward(sgn, j):
        one = copy.deepcopy(net)
        one.load_state_dict({n: p.detach() + sgn * scale[n] * eps[n][j] for n, p in params.items()})
        with torch.no_grad():
            return -F.cross_entropy(one(x[idx]), y[idx]).item()

    diff = torch.tensor([reward(1, j) - reward(-1, j) for j in range(pop)])
    wj = diff / diff.std() / pop
    ref = copy.deepcopy(net)
    opt = torch.optim.Adam(ref.parameters(), lr=lr)
    for n, p in ref.named_parameters():
        p.grad = -(wj.view(-1, *[1] * p.dim()) * eps[n]).sum(0)
    opt.step()
    for (n, a), b in zip(res.model.named_parameters(), ref.parameters()):
        assert torch.allclose(a, b, atol=1e-6), n


def test_weight_perturbation_estimate_follows_autograd():
    """With many pairs the estimate of every tensor points along the true gradient of the reward (minus the loss),
    and jointly along rms_l * gradient: the docstring's ``/ (2 sigma)``, i.e. the gradient in each tensor's units."""
    torch.manual_seed(0)
    net = build("mlp:8-6-3:relu", seed=0)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(64, 8, generator=g)
    y = x[:, :3].argmax(1)
    true_net = copy.deepcopy(net)
    F.cross_entropy(true_net(x), y).backward()
    seen = {}

    def capture(self, *a, **k):
        seen.update({i: p.grad.clone() for i, p in enumerate(self.param_groups[0]["params"])})

    orig = torch.optim.Adam.step
    torch.optim.Adam.step = capture
    try:
        refine(net, (x, y), method="perturbation", steps=1, population=4000, sigma=0.01, batch_size=64,
               verify_on=None, num_classes=3, seed=0)
    finally:
        torch.optim.Adam.step = orig
    est, true = [], []
    for i, (n, p) in enumerate(true_net.named_parameters()):
        cos = F.cosine_similarity(seen[i].flatten(), p.grad.flatten(), dim=0).item()
        assert cos > 0.9, (n, cos)  # both are descent directions: the estimate is minus the reward's ascent
        est.append(seen[i].flatten())
        true.append(p.grad.flatten() * max(p.detach().pow(2).mean().sqrt().item(), 1e-2))
    assert F.cosine_similarity(torch.cat(est), torch.cat(true), dim=0).item() > 0.99


def test_activity_step_equals_the_formula_one_perturbation_at_a_time():
    from metanet.loop.refine import _activity_step, _layers

    torch.manual_seed(0)
    net = build("mlp:8-6-3:relu", seed=0)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(10, 8, generator=g), torch.randint(0, 3, (10,), generator=g)
    pop, sigma = 3, 0.1
    est = copy.deepcopy(net)
    _activity_step(est, _layers(est), x, y, pop, sigma, torch.Generator().manual_seed(5), "loss")
    l0, l1 = net.layers[0], net.layers[1]
    with torch.no_grad():
        z0 = l0(x)
        a1 = z0.relu()
        z1 = l1(a1)
        g = torch.Generator().manual_seed(5)  # drawn layer by layer as the forward pass reaches them
        e0, e1 = torch.randn((pop, *z0.shape), generator=g), torch.randn((pop, *z1.shape), generator=g)
        s0, s1 = sigma * z0.pow(2).mean().sqrt(), sigma * z1.pow(2).mean().sqrt()

        def losses(sgn, p):  # per example, one perturbation at a time
            h = (z0 + sgn * s0 * e0[p]).relu()
            return F.cross_entropy(l1(h) + sgn * s1 * e1[p], y, reduction="none")

        d = torch.stack([(losses(1, p) - losses(-1, p)) / 2 for p in range(pop)])  # (P, b)
        g0 = (d.unsqueeze(-1) * e0).mean(0) / s0
        g1 = (d.unsqueeze(-1) * e1).mean(0) / s1
    b = len(y)
    assert torch.allclose(est.layers[0].weight.grad, g0.T @ x / b, atol=1e-5)
    assert torch.allclose(est.layers[0].bias.grad, g0.sum(0) / b, atol=1e-5)
    assert torch.allclose(est.layers[1].weight.grad, g1.T @ a1 / b, atol=1e-5)
    assert torch.allclose(est.layers[1].bias.grad, g1.sum(0) / b, atol=1e-5)


def test_refine_logs_one_summary_of_its_skipped_steps(caplog):
    """One huge input makes the logits inf and the loss NaN on the steps that draw it: they are skipped, and one
    warning gives their count and the first (was one warning per skipped step)."""
    net = build("mlp:8-6-3:relu", seed=0)
    with torch.no_grad():
        net.layers[1].weight.mul_(100)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 8, generator=g), torch.tensor([0, 1, 2, 0])
    x[2] = 3e38
    with caplog.at_level(logging.WARNING, logger="metanet.loop"):
        res = refine(net, (x, y), method="sgd", steps=30, batch_size=1, verify_on=None, num_classes=3, seed=0)
    bad = [i for i, h in enumerate(res.history) if not math.isfinite(h)]
    assert 0 < len(bad) < 30 and bad[0] > 0  # some steps, not the first
    lines = [r.getMessage() for r in caplog.records if r.name == "metanet.loop"]
    assert lines == [f"refine: {len(bad)} of 30 steps had a non-finite gradient and were skipped "
                     f"(the first: step {bad[0]})"]
    assert all(torch.isfinite(p).all() for p in res.model.parameters())
