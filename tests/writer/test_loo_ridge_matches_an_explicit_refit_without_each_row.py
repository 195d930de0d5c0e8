"""loo_ridge against an independent reference: the weighted ridge solution refitted without each row (normal
equations, torch.linalg.solve in float64), lambda chosen by the weighted leave-one-out accuracy on the evenly spaced
rows of the row cap, and the returned solution fitted on every row."""

from __future__ import annotations

import pytest
import torch

from metanet.writer.solvers import class_weights, loo_ridge, targets


def _weighted_ridge(a, t, w, lam_abs):
    """argmin_R sum_i w_i ||a_i R - t_i||^2 + lam_abs ||R||^2, by the normal equations."""
    aw = a * w.unsqueeze(1)
    return torch.linalg.solve(a.T @ aw + lam_abs * torch.eye(a.shape[1], dtype=a.dtype), aw.T @ t)


def _reference(a, y, k, lams, w, max_rows):
    """loo_ridge written out: one explicit refit per left-out row and lambda."""
    n, d = a.shape
    t = targets(y, k).double()
    rows = torch.linspace(0, n - 1, max_rows).long() if n > max_rows else torch.arange(n)
    ac, yc, wc = a[rows], y[rows], w[rows]
    tr = (ac.pow(2).sum(1) * wc).sum() / d  # tr(A^T W A) / d on the rows the choice is made on
    accs = []
    for lam in lams.tolist():
        reg = lam * tr + 1e-6  # held fixed while a row is left out, as in the closed form
        hit = torch.zeros(len(rows), dtype=torch.float64)
        for i in range(len(rows)):
            keep = torch.arange(len(rows)) != i
            r = _weighted_ridge(ac[keep], targets(yc[keep], k).double(), wc[keep], reg)
            hit[i] = float((ac[i] @ r).argmax() == yc[i])
        accs.append(float((hit * wc).sum() / wc.sum()))
    best = max(range(len(lams)), key=lambda j: (accs[j], j))  # ties to the larger lambda
    reg_all = float(lams[best]) * (a.pow(2).sum(1) * w).sum() / d + 1e-6  # the solution: every row
    return _weighted_ridge(a, t, w, reg_all), accs


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "class-weighted"])
@pytest.mark.parametrize("max_rows", [2048, 21], ids=["all-rows", "row-cap"])
def test_loo_ridge_matches_an_explicit_refit_without_each_row(weighted, max_rows):
    g = torch.Generator().manual_seed(3)
    lams = torch.tensor([1e-3, 3e-2, 1.0, 30.0], dtype=torch.float64)
    chosen_differ = False
    for trial in range(3):
        n, d, k = 48, 8, 3
        y = torch.cat([torch.zeros(6, dtype=torch.long), torch.randint(1, k, (n - 6,), generator=g)])
        y = y[torch.randperm(n, generator=g)]
        a = torch.randn(n, d, generator=g, dtype=torch.float64)
        a[:, :k] += 0.7 * torch.nn.functional.one_hot(y, k).double()  # weak signal: lambda matters
        w = class_weights(y, k).double() if weighted else torch.ones(n, dtype=torch.float64)
        ref, accs = _reference(a, y, k, lams, w, max_rows)
        chosen_differ |= len(set(accs)) > 1
        got = loo_ridge(a.unsqueeze(0), targets(y, k), lams, max_rows=max_rows,
                        weights=w if weighted else None)[0]
        torch.testing.assert_close(got, ref, atol=1e-9, rtol=1e-7, msg=lambda m: f"trial {trial}, accs {accs}: {m}")
    assert chosen_differ  # the lambda choice was exercised, not a tie everywhere
