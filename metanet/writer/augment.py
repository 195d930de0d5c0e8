r"""Shift augmentation of a small support set, when its inputs are images (or 1-d signals) at all.

A network written from 50 examples per class learns from 50 examples; the same examples moved by one pixel are 50
more, as plausible as the originals *if* the inputs have spatial structure. Whether they do is read off the support
set itself, never from a task name: the mean correlation of neighbouring input positions across the examples,

.. math::
    \rho = \operatorname{mean}_{\text{axis}} \operatorname{mean}_{p} \operatorname{corr}_n(x_{n,p},\, x_{n,p+1}) ,

averaged over the positions ``p`` that vary in the support set. Measured on the support sets of the held-out tasks
of ``bench/generate.py``: natural images and signals 0.39–0.84 (8×8 digits lowest), pixel-permuted ones −0.02–0.20,
hence :data:`SMOOTH`. A pixel-permuted task is left alone: shifting its inputs would only add noise.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet.errors import ConfigError, TaskError

__all__ = ["AUGMENTS", "SMOOTH", "neighbour_correlation", "shift_copies", "augment_support"]

#: ``"shift"``: add copies of every support example moved by one position along each spatial axis (both ways);
#: ``"none"``: the support set as given
AUGMENTS = ("none", "shift")

#: inputs whose neighbour correlation :math:`\rho` is below this are not treated as images
SMOOTH = 0.3


def neighbour_correlation(x: Tensor) -> float | None:
    r""":math:`\rho` of the module docstring: the mean, over spatial axes, of the mean correlation between
    neighbouring positions across the examples (``None`` for inputs without spatial axes or too few examples).

    Shapes:
        - x: :math:`(n, C, L)` or :math:`(n, C, H, W)` (flat :math:`(n, d)` inputs have no spatial axes)
    """
    if x.dim() < 3 or len(x) < 3:
        return None
    x = x.detach()  # a decision, not a differentiable value: float() of a grad-requiring tensor warned
    c = x - x.mean(0, keepdim=True)
    s = c.pow(2).mean(0).sqrt()  # (C, *spatial)
    out = []
    for axis in range(2, x.dim()):
        if x.shape[axis] < 2:
            continue
        length = x.shape[axis] - 1
        a, b = c.narrow(axis, 0, length), c.narrow(axis, 1, length)
        sa, sb = s.narrow(axis - 1, 0, length), s.narrow(axis - 1, 1, length)
        varies = (sa > 1e-3) & (sb > 1e-3)  # constant positions (blank borders) carry no correlation
        if not bool(varies.any()):  # no varying neighbours on this axis (one row among blank ones): the other
            continue  # axes still decide (it was None for the whole input)
        out.append(float(((a * b).mean(0) / (sa * sb).clamp_min(1e-12))[varies].mean()))
    return sum(out) / len(out) if out else None


def shift_copies(x: Tensor, shift: int = 1) -> Tensor:
    """``x`` followed by its copies moved by ``shift`` positions along each spatial axis, both ways (edges
    replicated, so an inverted image's bright background stays bright).

    Shapes:
        - x: :math:`(n, C, L)` or :math:`(n, C, H, W)`; output: :math:`(3n, C, L)` or :math:`(5n, C, H, W)`
    """
    # a negative shift was a raw "Sizes of tensors must match" RuntimeError, a float or bool one a TypeError from pad
    if isinstance(shift, bool) or not isinstance(shift, numbers.Integral) or shift < 1:
        raise TaskError(f"shift_copies' shift must be a whole number of positions >= 1, got {shift!r}")
    shift = int(shift)
    spatial = x.dim() - 2
    if spatial not in (1, 2):
        raise TaskError(f"shift_copies needs (n, C, L) or (n, C, H, W) inputs, got shape {tuple(x.shape)}")
    p = F.pad(x, (shift, shift) * spatial, mode="replicate")
    out = [x]
    if spatial == 1:
        n_l = x.shape[-1]
        out += [p[..., shift + d : shift + d + n_l] for d in (-shift, shift)]
    else:
        h, w = x.shape[-2:]
        for dy, dx in ((-shift, 0), (shift, 0), (0, -shift), (0, shift)):
            out.append(p[..., shift + dy : shift + dy + h, shift + dx : shift + dx + w])
    return torch.cat(out)


def augment_support(x: Tensor, y: Tensor, mode: str, below: int) -> tuple[Tensor, Tensor]:
    """The support set the writer conditions on: with ``mode="shift"``, a support set of at most ``below`` examples
    per class (median over the classes present; the lower of the two middle counts for an even number) whose inputs
    look like images (:func:`neighbour_correlation` >= :data:`SMOOTH`) gets its shifted copies (:func:`shift_copies`);
    anything else is returned as given.

    Shapes:
        - x: :math:`(n, *\\text{input shape})`, y: :math:`(n,)`; output: :math:`(m n, ...)`, :math:`(m n,)`
    """
    if mode == "none":
        return x, y
    if mode != "shift":
        raise ConfigError(f"unknown support augmentation {mode!r}; valid: {', '.join(AUGMENTS)}")
    if isinstance(below, bool) or not isinstance(below, numbers.Integral) or below < 0:  # None: a raw TypeError
        raise ConfigError(f"augment_support's below (examples per class) must be an integer >= 0, got {below!r}")
    if x.dim() not in (3, 4):  # flat inputs, or more spatial axes than shift_copies moves along (3-d volumes)
        return x, y
    counts = torch.bincount(y)
    if float(counts[counts > 0].median()) > below:
        return x, y
    rho = neighbour_correlation(x)
    if rho is None or rho < SMOOTH:
        return x, y
    xs = shift_copies(x)
    return xs, y.repeat(len(xs) // len(x))
