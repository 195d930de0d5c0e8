"""Refine one network without a writer: gradient-free weight perturbation, or plain gradient fine-tuning.

``method="perturbation"`` (the "mortal computation" learning rule: no backward pass, only a scalar reward):
each step draws ``population`` Gaussian directions ``eps`` (antithetic pairs ``+eps, -eps``), scores all
``2 * population`` perturbed networks ``theta ± sigma_l * eps`` at once (stacked parameters, one ``vmap``-ed
forward pass) on a minibatch of the training data, and estimates the gradient of the reward as
``g = mean_j (R(+) - R(-)) / (2 sigma) * eps_j``, standardised; Adam ascends it. ``sigma_l`` is ``sigma`` times
the RMS of each parameter tensor. Reward: negative minibatch cross-entropy (``objective="loss"``) or minibatch
accuracy (``objective="accuracy"``).

``method="sgd"``: the same minibatches, the same optimiser (Adam, same learning rate), exact backprop gradients of
the cross-entropy — the comparison point.
"""

from __future__ import annotations

import copy
import time
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from metanet.errors import MetanetError, TaskError
from metanet.verify import Report, verify, verify_stacked

__all__ = ["refine", "RefineResult", "REFINE_METHODS"]

REFINE_METHODS = ("perturbation", "sgd")


class RefineResult(NamedTuple):
    """``(model, before, after, history)``: the refined copy, Reports of the input and the refined network on the
    verification split (None when not verified), and the per-step training reward."""

    model: nn.Module
    before: Report | None
    after: Report | None
    history: list[float]


def _data(task, split: str):
    if isinstance(task, (tuple, list)) and len(task) == 2:
        return task[0], task[1], None
    from metanet.writer.generate import resolve_task

    t = resolve_task(task)
    x, y = t.split(split)
    return x, y, t


def _report(model: nn.Module, task, t, verify_on, k: int) -> Report | None:
    if verify_on is None:
        return None
    if t is not None:
        return verify(model, t, split=verify_on)
    from types import SimpleNamespace

    x, y = verify_on if isinstance(verify_on, (tuple, list)) else task
    p = {n: v.detach().unsqueeze(0) for n, v in model.named_parameters()}
    return verify_stacked(model, p, SimpleNamespace(name="examples", num_classes=k), data=(x, y))[0]


def refine(
    model: nn.Module,
    task,
    method: str = "perturbation",
    steps: int = 100,
    population: int = 32,
    sigma: float = 0.02,
    lr: float = 3e-3,
    batch_size: int = 256,
    objective: str = "loss",
    split: str = "train",
    verify_on="val",
    seed: int = 0,
    num_classes: int | None = None,
) -> RefineResult:
    """Refine a copy of ``model`` on ``task``'s ``split`` (or on ``task=(x, y)``); ``model`` is left unchanged.

    Args:
        model: a network (any ``nn.Module`` mapping inputs to logits; buffers are kept as they are).
        task: a Task, a task name, or ``(x, y)`` examples.
        method: ``"perturbation"`` (gradient-free) or ``"sgd"`` (backprop, for comparison).
        steps: optimisation steps; population: antithetic perturbation pairs per step (perturbation only).
        sigma: perturbation scale relative to each parameter tensor's RMS; lr: Adam learning rate.
        batch_size: minibatch of the training data per step (the same batches for both methods, given the seed).
        objective: reward of the perturbation rule, ``"loss"`` (negative cross-entropy) or ``"accuracy"``.
        split: training split of a Task; verify_on: split for the before/after Reports (a Task), or ``(x, y)``,
            or None (no reports).
        seed: the same seed gives the same result.

    Returns:
        :class:`RefineResult` ``(model, before, after, history)``.
    """
    if method not in REFINE_METHODS:
        raise MetanetError(f"unknown refine method {method!r}; valid: {', '.join(REFINE_METHODS)}")
    if objective not in ("loss", "accuracy"):
        raise MetanetError(f"unknown refine objective {objective!r}; valid: loss, accuracy")
    if steps < 0 or population < 1 or sigma <= 0 or lr <= 0:
        raise MetanetError(f"refine needs steps >= 0, population >= 1, sigma > 0, lr > 0; got {steps}, {population}, {sigma}, {lr}")
    x, y, t = _data(task, split)
    if len(y) == 0:
        raise TaskError("refine needs at least one training example")
    k = num_classes or (t.num_classes if t is not None else int(y.max()) + 1)
    net = copy.deepcopy(model).eval()
    before = _report(model, task, t, verify_on, k)
    g = torch.Generator().manual_seed(seed)
    names = [n for n, _ in net.named_parameters()]
    params = dict(net.named_parameters())
    opt = torch.optim.Adam(params.values(), lr=lr)
    history: list[float] = []
    if method == "perturbation":
        base = copy.deepcopy(net).to("meta")
        buffers = dict(net.named_buffers())
        fwd = vmap(lambda p, xb: functional_call(base, (p, buffers), (xb,)), in_dims=(0, None))
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randperm(len(y), generator=g)[:batch_size]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        if method == "sgd":
            loss = F.cross_entropy(net(xb), yb)
            loss.backward()
            history.append(-loss.item())
        else:
            with torch.no_grad():
                eps = {n: torch.randn((population, *params[n].shape), generator=g) for n in names}
                scale = {n: sigma * params[n].pow(2).mean().sqrt().clamp_min(1e-2) for n in names}
                stacked = {n: torch.cat([params[n] + scale[n] * eps[n], params[n] - scale[n] * eps[n]]) for n in names}
                logits = fwd(stacked, xb)  # (2P, b, C)
                if objective == "loss":
                    ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(2 * population), reduction="none")
                    r = -ce.view(2 * population, -1).mean(1)
                else:
                    r = (logits.argmax(-1) == yb).float().mean(1)
                r = torch.nan_to_num(r, nan=-1e6, posinf=-1e6, neginf=-1e6)
                diff = r[:population] - r[population:]
                history.append(r.mean().item())
                if diff.abs().max() == 0:
                    continue  # flat reward: no information this step
                w = diff / (diff.std() + 1e-8) / population
                for n in names:  # Adam minimises: the gradient is minus the reward's ascent direction
                    params[n].grad = -(w.view(-1, *[1] * params[n].dim()) * eps[n]).sum(0)
        opt.step()
    net.eval()
    after = _report(net, task, t, verify_on, k)
    if after is not None:
        after.extra["seconds_refine"] = time.perf_counter() - t0
        after.extra["method"] = method
    return RefineResult(net, before, after, history)
