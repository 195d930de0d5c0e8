r"""Neuron roles: the per-node targets of the reader, computed from data.

For every hidden neuron of a network, its activation :math:`a(x)` (after the nonlinearity, as the next layer sees
it: on a residual MLP's skip layer, the residual stream's value at its position, the stream plus the unit's own
output, as the neural graph's node holds it; ``metanet inspect``'s own columns measure the unit's output alone) is
measured on a fixed batch of the task's ``train`` images (:data:`ROLE_SPLIT`; the first ``n`` of the split,
256 by default). Not ``val``: the reader's labelled data probes are val images, and a role defined on the very
images the reader runs the network on would be read off its inputs rather than predicted:

- **dead**: the neuron carries (almost) no signal: :math:`|a(x)| > 10^{-2}` on fewer than 1% of the examples,
  or the standard deviation of :math:`a` over the batch is below :math:`10^{-3}` (a saturated ``tanh`` is as
  dead as a silent ``ReLU``);
- **selective:c** (class-selective, with its class c): with the response :math:`r(x) = |a(x) - \mathrm{median}_x
  a(x)|` (sign-agnostic: works for ``tanh`` as for ``ReLU``; for an even count, torch's median: the lower of the
  two middle values), :math:`\mu_c` its mean over examples of class c, :math:`\mu_{max} = \max_c \mu_c` and
  :math:`\mu_{rest}` the mean of the other classes' :math:`\mu_c` (classes the batch holds), the
  selectivity index :math:`(\mu_{max} - \mu_{rest}) / (\mu_{max} + \mu_{rest}) > 0.5`; c is the argmax;
- **polysemantic**: every other live neuron (responds to several classes).

Codes: 0 dead, 1 polysemantic, 2 + c selective for class c (:func:`metanet.reader.model.role_names`); -1 marks
non-hidden nodes (input and output neurons have no role target). Only linear layers (MLPs) are measured; hidden
neurons of CNNs get -1 (no target) for now.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["role_codes", "hidden_activations", "measured", "DEAD", "POLY", "SELECTIVITY", "ACTIVE_FRACTION", "ROLE_SPLIT"]

DEAD, POLY = 0, 1
#: selectivity index above which a live neuron is class-selective
SELECTIVITY = 0.5
#: a neuron active on fewer than this fraction of the examples is dead
ACTIVE_FRACTION = 0.01
#: the task split whose images define the roles (disjoint from the reader's val-split data probes)
ROLE_SPLIT = "train"


def measured(lay) -> bool:
    """Whether the roles of a network of this layout are measured (reader training targets): MLPs only, so a
    reader's role predictions for the channels of a CNN were never trained."""
    return all(layer.type == "linear" and layer.kk == 1 for layer in lay.layers)


def hidden_activations(lay, params: dict[str, Tensor], x: Tensor) -> list[Tensor] | None:
    """Activations ``(P, n, width_l)`` of every hidden layer of P networks of one MLP layout (``params`` stacked,
    ``x`` of shape ``(n, *)``); None if the layout has a non-linear layer type (CNN)."""
    from metanet.nets import activation

    if not measured(lay):
        return None
    first = next(iter(params.values()))
    # in the parameters' dtype: float64 networks on float32 task images were an einsum dtype error
    h = x.flatten(1).to(first.dtype).unsqueeze(0).expand(first.shape[0], -1, -1)
    if lay.spec.get("family") == "sequential":
        return _sequential_activations(lay, params, h)
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


def _sequential_activations(lay, params: dict[str, Tensor], h: Tensor) -> list[Tensor]:
    """:func:`hidden_activations` of a plain ``nn.Sequential`` MLP, walked layer by layer: its plan keeps one
    activation per neuron layer, which missed an activation on the inputs (``nn.Sequential(nn.Sigmoid(), ...)``) and
    every one after the first (``nn.ReLU(), nn.Tanh()``)."""
    from metanet.nets import activation
    from metanet.nets.spec import module_names

    specs = lay.spec["layers"]
    outs: list[Tensor] = []
    seen = 0  # Linear layers applied so far
    for name, d in zip(module_names(specs), specs):
        if d["type"] == "linear":
            if seen:  # the hidden layer before it, after all its activations: what this layer reads
                outs.append(h)
            h = torch.einsum("pni,poi->pno", h, params[f"{name}.weight"])
            if f"{name}.bias" in params:
                h = h + params[f"{name}.bias"][:, None, :]
            seen += 1
        elif d["type"] == "act":
            h = activation(d["name"])(h)
        # flatten (the inputs are flat already) and dropout (inference) leave h as it is
    return outs


def role_codes(acts: Tensor, y: Tensor, num_classes: int) -> Tensor:
    """Role codes ``(P, width)`` from activations ``(P, n, width)`` of one layer and labels ``y`` ``(n,)`` (integers in
    ``[0, num_classes)``)."""
    acts, y, num_classes = _checked(acts, y, num_classes)
    active = (acts.abs() > 1e-2).float().mean(1)
    std = acts.std(1)
    dead = (active < ACTIVE_FRACTION) | (std < 1e-3)
    r = (acts - acts.median(1, keepdim=True).values).abs()
    onehot = torch.nn.functional.one_hot(y, num_classes).to(r.dtype)  # (n, C); float64 activations stay float64
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


def _checked(acts: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor, int]:
    """``acts``, ``y`` (as int64) and ``num_classes`` (an int) if they fit together, else a ConfigError naming the
    mismatch (these were raw einsum / one_hot / median RuntimeErrors)."""
    from metanet.errors import ConfigError, whole_number

    k = None if isinstance(num_classes, bool) else whole_number(num_classes)
    if k is None or k < 1:
        raise ConfigError(f"role_codes num_classes must be a whole number >= 1, got {num_classes!r}")
    if not isinstance(acts, Tensor) or not acts.is_floating_point() or acts.dim() != 3:
        raise ConfigError(f"role_codes needs float activations of shape (networks, examples, width); got "
                          f"{tuple(acts.shape) if isinstance(acts, Tensor) else type(acts).__name__}"
                          f"{' ' + str(acts.dtype) if isinstance(acts, Tensor) else ''}")
    y = torch.as_tensor(y)
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex() or y.dim() != 1:
        raise ConfigError(f"role_codes needs integer class labels of shape (examples,); got {y.dtype} of shape "
                          f"{tuple(y.shape)}")
    if len(y) != acts.shape[1] or len(y) == 0:
        raise ConfigError(f"role_codes needs one label per example (at least one); got {len(y)} labels for "
                          f"activations of {acts.shape[1]} examples")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= k:
        raise ConfigError(f"role_codes labels must lie in [0, {k}) (num_classes={num_classes!r}); got "
                          f"{lo}..{hi}")
    return acts, y.long().to(acts.device), k
