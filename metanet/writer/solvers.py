"""Closed-form, differentiable statistics of a support set that the writer conditions on.

Everything here is batched over a leading dimension ``B`` (candidates or tasks) and differentiable, so the
writer can be trained through it (as in R2-D2 / MetaOptNet few-shot learners).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet.errors import ConfigError, check_whole

__all__ = ["ridge", "solve", "loo_ridge", "logistic", "targets", "class_means", "class_weights", "subclasses",
           "SupportStats", "support_stats"]


def targets(y: Tensor, num_classes: int) -> Tensor:
    """Centred one-hot targets :math:`Y = \\mathrm{onehot}(y) - 1/K`, shape ``(n, K)``."""
    return F.one_hot(y, num_classes).to(torch.float32) - 1.0 / num_classes


def class_weights(y: Tensor, num_classes: int) -> Tensor:
    r"""Class-balancing row weights :math:`w_i = n / (K n_{y_i})`, shape ``(n,)``: every class weighs ``n / K`` in
    total (the weights sum to ``n``; all exactly 1 when the classes have equal counts)."""
    counts = torch.bincount(y, minlength=num_classes).to(torch.float32)
    return (len(y) / (num_classes * counts.clamp_min(1.0)))[y]


def ridge(a: Tensor, y: Tensor, lam: Tensor | float) -> Tensor:
    r"""Ridge regression :math:`R = (A^\top A + \lambda' I)^{-1} A^\top Y` with
    :math:`\lambda' = \lambda \cdot \mathrm{tr}(A^\top A) / d` (scale-free), solved in the primal or the dual
    (:math:`A^\top (A A^\top + \lambda' I)^{-1} Y`), whichever system is smaller.

    Shapes:
        - a: :math:`(B, n, d)`, y: :math:`(n, K)` or :math:`(B, n, K)`
        - output: :math:`(B, d, K)`
    """
    b, n, d = a.shape
    scale = a.pow(2).sum(dim=(1, 2)) / d  # (B,)
    reg = (torch.as_tensor(lam, dtype=a.dtype) * scale + 1e-6).view(b, 1, 1)
    reg = reg.clamp_max(torch.finfo(a.dtype).max)  # a huge (or infinite) lambda: the ~zero solution, not inf - inf = NaN
    y = y.to(a.dtype)  # e.g. float32 targets() for float64 features
    y = y.expand(b, *y.shape[-2:]) if y.dim() == 2 else y
    if d <= n:
        gram = a.transpose(1, 2) @ a + reg * torch.eye(d, dtype=a.dtype)
        return solve(gram, a.transpose(1, 2) @ y)
    gram = a @ a.transpose(1, 2) + reg * torch.eye(n, dtype=a.dtype)
    return a.transpose(1, 2) @ solve(gram, y)


def solve(a: Tensor, b: Tensor) -> Tensor:
    r""":math:`A^{-1} B` for a batch of systems: ``torch.linalg.solve``, one matrix at a time when torch runs
    more than one thread.

    Batched ``torch.linalg.solve`` on CPU returns wrong pivots and hangs in MKL (``Parameter 6 was incorrect on
    entry to DLASWP``) once ``torch.set_num_threads(n > 1)`` has been called and the matrices are larger than
    about 150 (pytorch/pytorch#142815, #141358); one matrix at a time is unaffected. At one thread the batched
    call is safe, and it is what the shipped checkpoints were trained with, so it is kept there.

    Shapes:
        - a: :math:`(B, d, d)`, b: :math:`(B, d, K)` or :math:`(B, d)` (vectors, as ``torch.linalg.solve`` reads them)
        - output: :math:`(B, d, K)` or :math:`(B, d)`
    """
    if b.dim() == 1 or (b.dim() == a.dim() - 1 and b.shape == a.shape[:-1]):
        # vectors: read as matrices below, a singular system's solution had the wrong shape (or raised)
        return solve(a, b.unsqueeze(-1)).squeeze(-1)
    if torch.get_num_threads() == 1 or a.dim() < 3 or b.dim() < 3:
        return _solve(a, b)
    # broadcast the batch dimensions as torch.linalg.solve does (zip alone silently paired only the first ones)
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if math.prod(batch) == 0 or a.shape[-1] == 0:  # nothing to solve (0 x 0 systems: a ridge on no rows)
        return torch.linalg.solve(a, b)
    a = a.expand(*batch, *a.shape[-2:]).reshape(-1, *a.shape[-2:])
    b = b.expand(*batch, *b.shape[-2:]).reshape(-1, *b.shape[-2:])
    out = torch.stack([_solve(ai, bi) for ai, bi in zip(a, b)])
    return out.view(*batch, *out.shape[-2:])


def _solve(a: Tensor, b: Tensor) -> Tensor:
    """``torch.linalg.solve(a, b)`` (``b`` a matrix or a batch of them), with the minimum-norm least-squares solution
    of a system that is singular in its dtype: a float32 ridge whose regulariser fell below the gram's precision (a
    tiny lambda on rank-deficient features, e.g. duplicated examples) raised a LinAlgError. Each system takes one
    route only, the other seeing the identity: a singular one's LU in the graph made every gradient of it NaN (the
    writer trains through this), and a batch's pinv of a non-finite system raised where solve gives NaN."""
    x, info = torch.linalg.solve_ex(a, b)
    singular = info != 0
    if bool(singular.any()):
        s = singular[..., None, None]
        eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
        x = torch.where(s, torch.linalg.pinv(torch.where(s, a, eye)) @ b,  # (lstsq's gelsd: CPU only)
                        torch.linalg.solve_ex(torch.where(s, eye, a), b)[0])
    return x


def class_means(a: Tensor, y: Tensor, num_classes: int) -> Tensor:
    """Per-class mean of ``a`` ``(B, n, d)`` → ``(B, d, K)`` (zero for a class with no example)."""
    onehot = F.one_hot(y, num_classes).to(a.dtype)  # (n, K)
    counts = onehot.sum(0).clamp_min(1.0)
    return (a.transpose(1, 2) @ onehot) / counts


class SupportStats:
    """Per-feature statistics of one layer's inputs on the support set.

    Attributes (``B`` batch, ``d`` features = source neurons, ``K`` classes):
        mean, std: ``(B, d)``; ridge: ``(B, d, K)`` unit-norm columns of the ridge solution from the centred
        features to centred one-hot targets; means: ``(B, d, K)`` unit-norm centred class means.
    """

    def __init__(self, mean: Tensor, std: Tensor, ridge: Tensor, means: Tensor) -> None:
        self.mean, self.std, self.ridge, self.means = mean, std, ridge, means


def support_stats(a: Tensor, y: Tensor, num_classes: int, lam: Tensor | float) -> SupportStats:
    """Statistics of layer inputs ``a`` ``(B, n, d)`` with labels ``y`` ``(n,)``."""
    mean = a.mean(1)
    centred = a - mean.unsqueeze(1)
    std = centred.pow(2).mean(1).add(1e-8).sqrt()
    r = ridge(centred, targets(y, num_classes), lam)
    mu = class_means(centred, y, num_classes)
    return SupportStats(mean, std, F.normalize(r, dim=1), F.normalize(mu, dim=1))


def loo_ridge(a: Tensor, y: Tensor, lams: Tensor, max_rows: int = 2048, weights: Tensor | None = None) -> Tensor:
    r"""Ridge regression (:func:`ridge`) whose :math:`\lambda` is chosen per batch element from ``lams`` by
    leave-one-out accuracy.

    The leave-one-out prediction of ridge regression is closed form,
    :math:`\hat Y_{-i} = Y_i - (Y_i - \hat Y_i) / (1 - h_{ii})` with :math:`h = \mathrm{diag}(A (A^\top A +
    \lambda' I)^{-1} A^\top)`, so one eigendecomposition of :math:`A^\top A` scores every :math:`\lambda` at once
    (as in generalised cross-validation). Ties go to the larger :math:`\lambda`. The choice is computed in the
    inputs' dtype, the returned solution in float64 (then cast back). The choice is discrete and made
    without gradient; the returned solution is :func:`ridge` at the chosen :math:`\lambda`, differentiable in ``a``
    and ``lams`` (no eigenvector gradients, which are unstable for repeated eigenvalues).

    The choice is made on at most ``max_rows`` evenly spaced rows (the solution uses all of them).

    ``weights`` (positive, one per row, e.g. :func:`class_weights`): weighted ridge regression (row ``i``'s squared
    error counts ``w_i`` times: the rows and targets are scaled by :math:`\sqrt{w_i}`, which leaves each row's
    predicted class unchanged) whose :math:`\lambda` maximises the weighted leave-one-out accuracy. With class
    weights, a class of 3 examples among 100 of another is not outvoted: the plain solution's bias and the plain
    accuracy both favour the majority, down to a constant classifier. ``None``: every row weighs 1 (bit-identical
    to the unweighted computation).

    Shapes:
        - a: :math:`(B, n, d)`, y: :math:`(n, K)` centred one-hot targets, lams: :math:`(L,)` ascending,
          weights: :math:`(n,)`
        - output: :math:`(B, d, K)`
    """
    if lams.dim() != 1 or len(lams) == 0:  # argmax over no lambda was a raw IndexError
        raise ConfigError(f"loo_ridge needs a 1-D grid of at least one lambda, got shape {tuple(lams.shape)}")
    y = y.to(a.dtype)  # e.g. float32 targets() for float64 features
    w = None
    if weights is not None:
        w = torch.as_tensor(weights, dtype=a.dtype)
        if w.shape != (a.shape[1],):
            raise ConfigError(f"loo_ridge weights must be {a.shape[1]} positive finite numbers (one per row), got "
                              f"shape {tuple(w.shape)}")
        bad = ~((w > 0) & torch.isfinite(w))  # the sqrt of a negative weight: NaN weights
        if bool(bad.any()):
            raise ConfigError(f"loo_ridge weights must be positive and finite, got {w[bad][:5].tolist()}")
        root = w.sqrt()
        a, y = a * root.view(1, -1, 1), y * root.unsqueeze(1)
    a_all, y_all = a, y
    if a.shape[1] > max_rows:
        rows = torch.linspace(0, a.shape[1] - 1, max_rows).long()
        a, y = a[:, rows], y[rows]
        w = None if w is None else w[rows]
    with torch.no_grad():
        d = a.shape[-1]
        ev, u = torch.linalg.eigh(a.transpose(1, 2) @ a)  # (B, d), (B, d, d)
        scale = a.pow(2).sum(dim=(1, 2)).unsqueeze(1) / d  # as in ridge(): tr(A^T A) / d
        au = a @ u  # (B, n, d)
        uty = u.transpose(1, 2) @ (a.transpose(1, 2) @ y)  # (B, d, K)
        inv = 1.0 / (ev.unsqueeze(1) + lams.view(1, -1, 1) * scale.unsqueeze(-1) + 1e-6)  # (B, L, d)
        fit = au.unsqueeze(1) @ (inv.unsqueeze(-1) * uty.unsqueeze(1))  # (B, L, n, K)
        hat = (au.pow(2).unsqueeze(1) * inv.unsqueeze(2)).sum(-1)  # (B, L, n)
        loo = y - (y - fit) / (1.0 - hat).clamp_min(1e-6).unsqueeze(-1)
        hit = (loo.argmax(-1) == y.argmax(-1)).to(a.dtype)  # (B, L, n)
        acc = hit.mean(-1) if w is None else (hit * w).sum(-1) / w.sum()  # (B, L)
        best = (acc + 1e-6 * torch.arange(len(lams), dtype=acc.dtype)).argmax(1)
    # float64: the chosen lambda can be small, and the classifier is the layer whose errors show most
    return ridge(a_all.double(), y_all.double(), lams.double()[best]).to(a.dtype)


def logistic(a: Tensor, y: Tensor, num_classes: int, w0: Tensor, lam: Tensor | float, iters: int = 30,
             free_last: bool = False) -> Tensor:
    r"""Multinomial logistic regression on ``a``, solved by Böhning's bound-optimisation (MM) iterations, started
    at and shrunk towards ``w0`` (the ridge solution: a prior that a penalty towards zero is not; with a large
    :math:`\lambda` the solution stays the ridge one): minimise

    .. math::
        \frac{1}{n} \sum_i \mathrm{CE}(\mathrm{softmax}(a_i W), y_i) + \frac{\lambda s}{2n} \|W - W_0\|^2 ,

    with :math:`s` the mean variance of the penalised inputs over the rows, so that :math:`\lambda` is scale-free
    (globally pooled convolution features vary far less than unit-normalised hidden units, and their mean is the
    free bias's business, not the penalty's). The Hessian is bounded above by
    :math:`M = \frac{1}{2n} A^\top A + \frac{\lambda s}{n} I` for every class (Böhning 1992:
    :math:`\nabla^2 \preceq \frac12 (I - \frac{1}{K} 1 1^\top) \otimes \frac{A^\top A}{n}`), so
    :math:`W \leftarrow W - M^{-1} \nabla` decreases the objective at every step, with one Cholesky factor of the
    ``d x d`` matrix :math:`M` shared by all classes and iterations: each iteration costs two matmuls and a
    triangular solve. A convex, differentiable solver on the support set like :func:`ridge` (the LR-D2 head of
    Bertinetto et al. 2019, with a monotone step instead of Newton's), fitting the written network's actual
    classification loss instead of a squared error to one-hot targets. :math:`M` is factored in float64; the
    iterations run in the inputs' dtype (two matmuls over all rows each: float32 halves the cost of the head).

    Args:
        a: inputs; y: labels ``(n,)``; w0: starting solution; lam: :math:`\lambda` (summed-loss scale: the
            penalty's weight shrinks as ``1/n`` with more examples); iters: MM iterations;
        num_classes: K, the number of classes (columns of the solution).
        free_last: the last input column is a bias: not penalised.

    Shapes:
        - a: :math:`(B, n, d)`, y: :math:`(n,)`, w0: :math:`(B, d, K)`; output: :math:`(B, d, K)`
    """
    dt = a.dtype
    w = anchor = w0.to(dt)
    n, d = a.shape[1], a.shape[2]
    pen = torch.ones(d, dtype=torch.float64)
    if free_last:
        pen[-1] = 0.0
    a64 = a.double()
    s = (a64.var(dim=1, unbiased=False) * pen).sum(1) / pen.sum().clamp_min(1.0)  # (B,) mean variance, penalised
    reg = (torch.as_tensor(lam, dtype=torch.float64) * s / n).view(-1, 1) * pen  # (B, d)
    # finite in the iterations' dtype: a huge lambda keeps w0, as promised, instead of inf * 0 = NaN in float32
    reg = reg.clamp_max(torch.finfo(dt).max)
    m = a64.transpose(1, 2) @ a64 / (2 * n) + torch.diag_embed(reg + 1e-9)  # (B, d, d)
    chol, info = torch.linalg.cholesky_ex(m)  # M is positive definite for finite inputs
    bad = (info != 0).view(-1, 1, 1)  # non-finite inputs (a broken writer): those candidates keep their start
    chol = torch.where(bad, torch.eye(d, dtype=chol.dtype), chol).to(dt)
    onehot = F.one_hot(y, num_classes).to(dt)
    decay = reg.to(dt).unsqueeze(-1)  # (B, d, 1)
    for _ in range(iters):
        grad = a.transpose(1, 2) @ (torch.softmax(a @ w, -1) - onehot) / n + decay * (w - anchor)
        w = w - torch.cholesky_solve(grad, chol)
    return torch.where(bad, anchor, w)


@torch.no_grad()
def subclasses(
    a: Tensor, y: Tensor, num_classes: int, per_class: int, priority: Tensor, iters: int = 8, max_rows: int = 256
) -> Tensor:
    """Split every class of the support set into ``per_class`` clusters (k-means, batched over candidates).

    Cluster ``j`` of class ``c`` gets label ``c * per_class + j``. Initial centres are the examples of each class with
    the highest ``priority`` (one random number per example and candidate), so the split depends on the examples and
    the candidate's noise, never on the class order: relabelling the classes only relabels the clusters. The centres
    are fitted on the ``max_rows`` highest-priority examples of each class; every example is then assigned.

    Shapes:
        - a: :math:`(B, n, d)` (``B`` may be 1 for rows shared by all candidates), y: :math:`(n,)`,
          priority: :math:`(B', n)`
        - output: :math:`(B', n)` cluster labels in ``0 .. num_classes * per_class - 1``
    """
    per_class = check_whole("subclasses per_class", per_class, 1)  # 0 clusters per class was a raw argmin IndexError
    bp, n = priority.shape
    labels = torch.zeros(bp, n, dtype=torch.long)
    for c in range(num_classes):
        idx = torch.nonzero(y == c).flatten()
        if len(idx) == 0:  # a class without examples has no clusters (and no rows to label)
            continue
        xc = a[:, idx]  # (B' or 1, n_c, d): shared rows stay one tensor
        m = min(per_class, len(idx))
        order = priority[:, idx].argsort(dim=1, descending=True)  # (B', n_c)
        fit = torch.gather(xc.expand(bp, -1, -1), 1, order[:, :max_rows, None].expand(-1, -1, xc.shape[-1]))
        cent = fit[:, :m]
        for _ in range(iters):
            assign = _nearest(fit, cent)
            onehot = F.one_hot(assign, m).to(xc.dtype)  # (B', rows, m)
            counts = onehot.sum(1).unsqueeze(-1)  # (B', m, 1)
            cent = torch.where(counts > 0, onehot.transpose(1, 2) @ fit / counts.clamp_min(1.0), cent)
        labels[:, idx] = _nearest(xc, cent) + c * per_class
    return labels


def _nearest(x: Tensor, cent: Tensor) -> Tensor:
    r"""Index of the nearest centre: :math:`\arg\min_j \|x - c_j\|^2 = \arg\min_j (\|c_j\|^2 - 2 x \cdot c_j)`."""
    return (cent.pow(2).sum(-1).unsqueeze(1) - 2 * x @ cent.transpose(1, 2)).argmin(-1)
