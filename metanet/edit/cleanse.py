r"""Neural Cleanse (Wang et al. 2019): for every class, the smallest input mask (with a pattern) that sends clean
inputs to that class, optimised for many networks at once.

A backdoored network has a shortcut: stamping its trigger, a few pixels, sends any input to the target class, so
that class's smallest mask is far smaller than the others'. For each network :math:`n` and class :math:`t`,
with mask :math:`m = \sigma(\mu)` and pattern :math:`p = \sigma(\pi)`, inputs become :math:`(1 - m) \odot x +
m \odot p` and Adam minimises

.. math::
    \mathrm{CE}\big(f_n((1 - m) \odot x + m \odot p),\, t\big) + \lambda_{n,t} \|m\|_1 ,

with :math:`\lambda_{n,t}` raised (x1.5) or lowered every 10 steps as the class is reached (>= 90 % of a batch)
in at least 8 of them or not (the paper's cost schedule). The smallest :math:`\|m\|_1` among steps that reach the
class is kept. Used by :func:`metanet.edit.repair.reconstruct_trigger` (one network) and by the reader's trigger
scan (:mod:`metanet.reader.scan`, every network of one architecture in one batch).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet._state import with_metanet_defaults
from metanet.errors import ArchError, ConfigError, TaskError, check_number
from metanet.verify import predicted

__all__ = ["neural_cleanse"]


# it optimises masks with autograd: under torch.no_grad() / inference_mode() it was a raw 'element 0 of tensors does
# not require grad'
@with_metanet_defaults(grad=True)
def neural_cleanse(
    forward: Callable[[Tensor], Tensor], x: Tensor, num_classes: int, nets: int = 1, *, steps: int = 300,
    batch: int = 128, lr: float = 0.1, seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Smallest flipping mask per network and class.

    Args:
        forward: logits of every network on its own inputs, ``(nets, M, *shape) -> (nets, M, K)``.
        x: clean inputs ``(n, *shape)`` (images ``(C, H, W)`` share one mask over channels).
        num_classes: K; nets: how many networks ``forward`` runs.
        steps, batch, lr: Adam steps, inputs per step (drawn with replacement), step size; seed: the initial
            masks and the batches, the same for every network.

    Returns:
        ``(l1, masks, patterns)``: ``l1`` ``(nets, K)`` the smallest mask norm that reached the class (``inf``
        where none did), and the masks ``(nets, K, *mask shape)`` and patterns ``(nets, K, *shape)`` found.

    Raises:
        ArchError: ``steps`` or ``batch`` not a whole number >= 1, or networks whose logits are not ``num_classes``.
        TaskError: no clean inputs.
        ConfigError: ``lr`` not a finite number > 0, or ``seed`` not an integer; or networks holding inference
            tensors (built inside ``torch.inference_mode()``).
    """
    for name, value in (("steps", steps), ("batch", batch)):
        # steps < 1 would return "no class reachable" (all inf) without optimising anything
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArchError(f"Neural Cleanse {name} {value!r} is not valid: a whole number >= 1")
    # NaN / negative lr was a raw ValueError from Adam, a float / bool / tensor seed a raw RuntimeError
    check_number("Neural Cleanse lr", lr, "> 0", lambda v: v > 0)
    check_number("Neural Cleanse seed", seed, "(any integer)", lambda v: True, integer=True)
    lr, seed = float(lr), int(seed)  # numpy integers: manual_seed takes only Python ints
    if len(x) == 0:
        raise TaskError("Neural Cleanse got no clean inputs (x is empty): it needs examples to stamp masks on")
    shape = tuple(x.shape[1:])
    g = torch.Generator().manual_seed(seed)
    k = num_classes
    mshape = (1, k, 1, *shape[1:]) if len(shape) == 3 else (1, k, *shape)
    # every network starts from the same noise (and sees the same batches): its result does not depend on which
    # other networks share its batch
    m_logit = torch.full(mshape, -2.0).add_(0.1 * torch.randn(mshape, generator=g))
    m_logit = m_logit.expand(nets, *mshape[1:]).clone().requires_grad_(True)
    p_logit = (0.1 * torch.randn((1, k, *shape), generator=g)).expand(nets, k, *shape).clone().requires_grad_(True)
    opt = torch.optim.Adam([m_logit, p_logit], lr=lr)
    lam = torch.full((nets, k), 1e-3)
    targets = torch.arange(k)
    best_l1 = torch.full((nets, k), math.inf)
    best_m = torch.sigmoid(m_logit.detach()).clone()
    best_p = torch.sigmoid(p_logit.detach()).clone()
    hits = torch.zeros(nets, k)
    for step in range(steps):
        xb = x[torch.randint(len(x), (min(batch, len(x)),), generator=g)]
        b = len(xb)
        mk, pt = torch.sigmoid(m_logit), torch.sigmoid(p_logit)
        xs = (1 - mk[:, :, None]) * xb[None, None] + (mk * pt)[:, :, None]  # (nets, K, b, *shape)
        try:
            logits = forward(xs.reshape(nets, k * b, *shape))
        except RuntimeError as e:
            # the search runs outside inference mode, but a network built inside it keeps inference tensors,
            # which autograd cannot use: torch's raw 'Inference tensors cannot be saved for backward'
            if "Inference tensors" not in str(e):
                raise
            raise ConfigError("Neural Cleanse: the networks that forward runs hold inference tensors (built inside "
                              "torch.inference_mode()), through which no mask can be optimised; "
                              "build them outside inference mode (torch.no_grad() is fine), or run copies: "
                              "copy.deepcopy(net) outside inference mode") from e
        if tuple(logits.shape) != (nets, k * b, k):
            raise ArchError(f"Neural Cleanse: the networks give {logits.shape[-1]} logits per input, num_classes is "
                            f"{k} (expected output shape {(nets, k * b, k)}, got {tuple(logits.shape)})")
        logits = logits.view(nets, k, b, -1)
        ce = F.cross_entropy(logits.reshape(-1, k), targets.repeat_interleave(b).repeat(nets), reduction="none")
        ce = ce.view(nets, k, b).mean(-1)
        l1 = mk.reshape(nets, k, -1).sum(-1)
        loss = (ce + lam * l1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            # a NaN/inf row reaches no class (argmax sent it to class 0: a 'trigger' for class 0 of any size)
            acc = (predicted(logits) == targets[:, None]).double().mean(-1).float()
            better = (acc >= 0.9) & (l1.detach() < best_l1)
            best_l1 = torch.where(better, l1.detach(), best_l1)
            best_m[better], best_p[better] = mk.detach()[better], pt.detach()[better]
            hits += (acc >= 0.9).float()
            if step % 10 == 9:
                lam = torch.where(hits >= 8, lam * 1.5, lam / 1.5).clamp(1e-5, 10.0)
                hits.zero_()
    return best_l1, best_m, best_p
