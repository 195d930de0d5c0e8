r"""Neuron roles: the per-node targets of the reader, computed from data.

For every hidden neuron of a network, its activation :math:`a(x)` (after the nonlinearity, as the next layer sees
it) is measured on a fixed batch of the task's ``train`` images (:data:`ROLE_SPLIT`; the first ``n`` of the split,
256 by default). Not ``val``: the reader's labelled data probes are val images, and a role defined on the very
images the reader runs the network on would be read off its inputs rather than predicted:

- **dead**: the neuron carries (almost) no signal: :math:`|a(x)| > 10^{-2}` on fewer than 1% of the examples,
  or the standard deviation of :math:`a` over the batch is below :math:`10^{-3}` (a saturated ``tanh`` is as
  dead as a silent ``ReLU``);
- **selective:c** (class-selective, with its class c): with the response :math:`r(x) = |a(x) - \mathrm{median}_x
  a(x)|` (sign-agnostic: works for ``tanh`` as for ``ReLU``), :math:`\mu_c` its mean over examples of class c,
  :math:`\mu_{max} = \max_c \mu_c` and :math:`\mu_{rest}` the mean of the other classes' :math:`\mu_c`, the
  selectivity index :math:`(\mu_{max} - \mu_{rest}) / (\mu_{max} + \mu_{rest}) > 0.5`; c is the argmax;
- **polysemantic**: every other live neuron (responds to several classes).

Codes: 0 dead, 1 polysemantic, 2 + c selective for class c (:func:`metanet.reader.model.role_names`); -1 marks
non-hidden nodes (input and output neurons have no role target). Only linear layers (MLPs) are measured; hidden
neurons of CNNs get -1 (no target) for now.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["role_codes", "hidden_activations", "DEAD", "POLY", "SELECTIVITY", "ACTIVE_FRACTION", "ROLE_SPLIT"]

DEAD, POLY = 0, 1
#: selectivity index above which a live neuron is class-selective
SELECTIVITY = 0.5
#: a neuron active on fewer than this fraction of the examples is dead
ACTIVE_FRACTION = 0.01
#: the task split whose images define the roles (disjoint from the reader's val-split data probes)
ROLE_SPLIT = "train"


def hidden_activations(lay, params: dict[str, Tensor], x: Tensor) -> list[Tensor] | None:
    """Activations ``(P, n, width_l)`` of every hidden layer of P networks of one MLP layout (``params`` stacked,
    ``x`` of shape ``(n, *)``); None if the layout has a non-linear layer type (CNN)."""
    from metanet.nets import activation

    if any(layer.type != "linear" or layer.kk != 1 for layer in lay.layers):
        return None
    h = x.flatten(1).unsqueeze(0).expand(next(iter(params.values())).shape[0], -1, -1)
    outs = []
    for layer in lay.layers[:-1]:
        w = params[layer.weight]
        z = torch.einsum("pni,poi->pno", h, w)
        if layer.bias is not None:
            z = z + params[layer.bias][:, None, :]
        a = activation(layer.act)(z)
        h = h + a if layer.residual else a
        outs.append(h)
    return outs


def role_codes(acts: Tensor, y: Tensor, num_classes: int) -> Tensor:
    """Role codes ``(P, width)`` from activations ``(P, n, width)`` of one layer and labels ``y`` ``(n,)``."""
    active = (acts.abs() > 1e-2).float().mean(1)
    std = acts.std(1)
    dead = (active < ACTIVE_FRACTION) | (std < 1e-3)
    r = (acts - acts.median(1, keepdim=True).values).abs()
    onehot = torch.nn.functional.one_hot(y, num_classes).float()  # (n, C)
    counts = onehot.sum(0).clamp(min=1)
    mu = torch.einsum("pnw,nc->pwc", r, onehot) / counts  # (P, width, C)
    present = onehot.sum(0) > 0
    mu = mu[..., present]
    classes = torch.arange(num_classes)[present]
    mmax, arg = mu.max(-1)
    k = mu.shape[-1]
    rest = (mu.sum(-1) - mmax) / max(k - 1, 1)
    si = (mmax - rest) / (mmax + rest + 1e-8)
    codes = torch.where(si > SELECTIVITY, 2 + classes[arg], torch.full_like(arg, POLY))
    return torch.where(dead, torch.full_like(codes, DEAD), codes)
