"""logistic's bound-optimisation step and subclasses' seeded k-means against independent references: the step
written from its formula with an autograd gradient, and a per-class k-means loop written out directly."""

from __future__ import annotations

import pytest
import torch

from metanet.writer.solvers import logistic, subclasses


def _objective(a, y, w, lam, w0, pen):
    """(1/n) sum_i CE(a_i W, y_i) + lam s / (2n) ||pen * (W - W0)||^2, s the mean variance of the penalised inputs."""
    n = a.shape[0]
    s = (a.var(dim=0, unbiased=False) * pen).sum() / pen.sum()
    ce = torch.nn.functional.cross_entropy(a @ w, y, reduction="sum") / n
    return ce + lam * s / (2 * n) * (pen.unsqueeze(1) * (w - w0).pow(2)).sum()


@pytest.mark.parametrize("free_last", [False, True])
def test_logistic_steps_are_boehnings_bound_steps(free_last):
    g = torch.Generator().manual_seed(4)
    n, d, k, lam = 40, 5, 3, 2.0
    a = torch.randn(n, d, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5, 1.0, 1.0]).double()
    if free_last:
        a[:, -1] = 1.0
    y = torch.randint(k, (n,), generator=g)
    w0 = 0.5 * torch.randn(d, k, generator=g, dtype=torch.float64)
    pen = torch.ones(d, dtype=torch.float64)
    if free_last:
        pen[-1] = 0.0
    s = (a.var(dim=0, unbiased=False) * pen).sum() / pen.sum()
    # Böhning's bound on the Hessian: A^T A / (2n) plus the penalty's own curvature, lam s / n on penalised inputs
    m = a.T @ a / (2 * n) + torch.diag(lam * s / n * pen + 1e-9)
    w = w0.clone()
    for t in range(1, 4):
        v = w.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(_objective(a, y, v, lam, w0, pen), v)
        w = w - torch.linalg.solve(m, grad)
        got = logistic(a.unsqueeze(0), y, k, w0.unsqueeze(0), lam, iters=t, free_last=free_last)[0]
        torch.testing.assert_close(got, w, atol=1e-10, rtol=1e-8, msg=lambda msg: f"after {t} steps: {msg}")
    assert not torch.allclose(w, w0, atol=1e-3)  # the steps moved


def _kmeans_reference(a, y, k, per_class, priority, iters, max_rows):
    """Per candidate and class: centres start at the highest-priority examples, Lloyd iterations on the max_rows
    highest-priority examples (an empty cluster keeps its centre, ties go to the lower cluster), then every example
    of the class is assigned to its nearest centre."""
    labels = torch.full(priority.shape, -1, dtype=torch.long)
    for b in range(priority.shape[0]):
        x = a[0] if a.shape[0] == 1 else a[b]
        for c in range(k):
            idx = [i for i in range(len(y)) if int(y[i]) == c]
            if not idx:
                continue
            order = sorted(idx, key=lambda i: -float(priority[b, i]))
            fit = x[order[:max_rows]]
            m = min(per_class, len(idx))
            cent = fit[:m].clone()
            for _ in range(iters):
                assign = torch.cdist(fit, cent).argmin(1)
                for j in range(m):
                    if (assign == j).any():
                        cent[j] = fit[assign == j].mean(0)
            labels[b, idx] = torch.cdist(x[idx], cent).argmin(1) + c * per_class
    return labels


@pytest.mark.parametrize("iters,max_rows", [(0, 256), (8, 256), (8, 3), (8, 2)])
def test_subclasses_match_a_written_out_seeded_kmeans(iters, max_rows):
    g = torch.Generator().manual_seed(5)
    k, per_class, n = 3, 2, 36
    y = torch.arange(k).repeat(n // k)
    a = torch.randint(-4, 5, (1, n, 3), generator=g).double()  # integers: exact distances, no near-ties
    a[0, 7] = a[0, 4]  # duplicated rows: a centre can start empty (its twin takes every tie)
    a[0, 10] = a[0, 4]
    priority = torch.rand(4, n, generator=g, dtype=torch.float64)
    priority[0, [4, 7, 10]] = torch.tensor([0.99, 0.98, 0.97], dtype=torch.float64)  # twins as class 1's first centres
    got = subclasses(a, y, k, per_class, priority, iters=iters, max_rows=max_rows)
    want = _kmeans_reference(a, y, k, per_class, priority, iters, max_rows)
    assert torch.equal(got, want), (got, want)
    assert torch.equal(got // per_class, y.expand(4, -1))
    # the same rows given per candidate (B = B') give the same clusters
    assert torch.equal(subclasses(a.expand(4, -1, -1), y, k, per_class, priority, iters=iters, max_rows=max_rows), got)
