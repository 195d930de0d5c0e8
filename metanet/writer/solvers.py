"""Closed-form, differentiable statistics of a support set that the writer conditions on.

Everything here is batched over a leading dimension ``B`` (candidates or tasks) and differentiable, so the
writer can be trained through it (as in R2-D2 / MetaOptNet few-shot learners).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ridge", "targets", "class_means", "SupportStats", "support_stats"]


def targets(y: Tensor, num_classes: int) -> Tensor:
    """Centred one-hot targets :math:`Y = \\mathrm{onehot}(y) - 1/K`, shape ``(n, K)``."""
    return F.one_hot(y, num_classes).to(torch.float32) - 1.0 / num_classes


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
    y = y.expand(b, *y.shape[-2:]) if y.dim() == 2 else y
    if d <= n:
        gram = a.transpose(1, 2) @ a + reg * torch.eye(d, dtype=a.dtype)
        return torch.linalg.solve(gram, a.transpose(1, 2) @ y)
    gram = a @ a.transpose(1, 2) + reg * torch.eye(n, dtype=a.dtype)
    return a.transpose(1, 2) @ torch.linalg.solve(gram, y)


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
