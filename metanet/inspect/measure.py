"""Batched measurements on a :class:`~metanet.inspect.netview.NetView`: accuracy of K masked variants in one
pass, per-neuron activations, ablation of a whole layer (mask ``1 - eye(H)``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from metanet.inspect.netview import Layer, NetView
from metanet.verify import _scores

__all__ = ["Scores", "evaluate_masks", "activations", "channel_spans", "ablate_layer", "predictions"]

#: floats held by one chunk of a masked pass (variants x examples x largest hidden tensor)
CHUNK_FLOATS = 1 << 24


@dataclass
class Scores:
    """Scores of K variants: ``accuracy (K,)``, ``per_class (K, C)`` (NaN for an absent class), ``loss (K,)``."""

    accuracy: Tensor
    per_class: Tensor
    loss: Tensor


def _batch(view: NetView, x: Tensor, variants: int) -> int:
    per_example = view.activation_size(tuple(x.shape[1:])) * max(1, variants)
    return max(1, min(len(x), CHUNK_FLOATS // max(1, per_example)))


@torch.no_grad()
def evaluate_masks(view: NetView, x: Tensor, y: Tensor, num_classes: int, masks: dict[int, Tensor]) -> Scores:
    """Accuracy, per-class accuracy and loss of every variant ``k`` (neuron outputs times ``masks[l][k]``)."""
    k = next(iter(masks.values())).shape[0] if masks else 1
    if k == 0:  # no variants: empty scores (verify's scoring cannot reshape an empty population)
        view.forward(x[:1], masks)  # the masks are still checked
        return Scores(torch.zeros(0, dtype=torch.float64), torch.zeros(0, num_classes, dtype=torch.float64),
                      torch.zeros(0, dtype=torch.float64))
    correct = torch.zeros(k, dtype=torch.long)
    loss = torch.zeros(k, dtype=torch.float64)
    per_class = torch.zeros(k, num_classes, dtype=torch.float64)
    bs = _batch(view, x, k)
    for i in range(0, len(x), bs):  # no examples: NaN scores below, not a perfect 0 loss
        xb, yb = x[i : i + bs], y[i : i + bs]
        logits, _ = view.forward(xb, masks) if masks else (view.forward(xb)[0].unsqueeze(0), None)
        c, l_, pc = _scores(logits, yb, num_classes)
        correct += c
        loss += l_
        per_class += pc
    counts = torch.bincount(y, minlength=num_classes).double()
    n = len(y)
    return Scores(correct.double() / n, per_class / counts, loss / n)


@torch.no_grad()
def predictions(view: NetView, x: Tensor, masks: dict[int, Tensor] | None = None) -> Tensor:
    """Predicted classes, ``(K, N)`` with masks, else ``(N,)``."""
    k = next(iter(masks.values())).shape[0] if masks else 0
    bs = _batch(view, x, k)
    # one pass even on no examples: an empty (K, 0) / (0,) result rather than a raw torch.cat error
    out = [view.forward(x[i : i + bs], masks)[0].argmax(-1) for i in range(0, max(1, len(x)), bs)]
    return torch.cat(out, dim=-1)


@torch.no_grad()
def activations(view: NetView, x: Tensor, spatial: bool = False) -> dict[int, Tensor]:
    """Neuron outputs per hidden layer, ``(N, width)``: units as they are, channels averaged over space
    (with ``spatial``, channels keep their ``(N, C, H, W)`` maps)."""
    bs = _batch(view, x, 1)
    parts: dict[int, list[Tensor]] = {l.index: [] for l in view.layers}
    for i in range(0, max(1, len(x)), bs):  # one pass on no examples: empty (0, width) tensors
        _, rec = view.forward(x[i : i + bs], record=True)
        for j, z in rec.items():
            parts[j].append(z if (z.dim() == 2 or spatial) else z.mean(dim=(2, 3)))
    return {j: torch.cat(v) for j, v in parts.items()}


@torch.no_grad()
def channel_spans(view: NetView, x: Tensor) -> dict[int, Tensor]:
    """``max - min`` of each channel's output over every position of every example, per convolutional layer
    (0 exactly when its whole map is one constant on ``x``; the spatial mean alone cannot tell)."""
    lo: dict[int, Tensor] = {}
    hi: dict[int, Tensor] = {}
    bs = _batch(view, x, 1)
    for i in range(0, len(x), bs):
        _, rec = view.forward(x[i : i + bs], record=True)
        for j, z in rec.items():
            if z.dim() == 4:
                zmin, zmax = z.amin(dim=(0, 2, 3)), z.amax(dim=(0, 2, 3))
                lo[j] = torch.minimum(lo[j], zmin) if j in lo else zmin
                hi[j] = torch.maximum(hi[j], zmax) if j in hi else zmax
    return {j: hi[j] - lo[j] for j in hi}


@torch.no_grad()
def ablate_layer(view: NetView, layer: int, x: Tensor, y: Tensor, num_classes: int, value: float = 0.0) -> Scores:
    """Scores of the H variants of ``layer`` with one neuron each set to ``value`` times its output (zeroed
    by default): one vectorised pass with the mask ``1 - (1 - value) * eye(H)``. A zeroed neuron is scored as removed:
    one whose outgoing weights hold NaN or inf is scored again without them (see :func:`_unread_zeroed`)."""
    h = view.layer(layer).width
    mask = 1.0 - (1.0 - value) * torch.eye(h)
    scores = evaluate_masks(view, x, y, num_classes, {layer: mask})
    if value == 0:
        _unread_zeroed(view, view.layer(layer), x, y, num_classes, mask, scores)
    return scores


def _unread_zeroed(view: NetView, L: Layer, x: Tensor, y: Tensor, num_classes: int, mask: Tensor,
                   scores: Scores) -> None:
    """Rescore, in ``scores``, the variants zeroing a neuron whose outgoing weights (those reading it alone) hold NaN
    or inf: its 0 output times them is still NaN, where removing it (:func:`metanet.edit.remove` zeroes them too)
    sends nothing on. So zeroing such a neuron showed no effect, and inspect said that zeroing no neuron makes the
    loss finite again, while removing it did. Each is scored on a copy with those weights zeroed."""
    p = view.params()
    cons = [c for c in L.consumers if c.exclusive]  # residual stream columns stay: removing leaves them too
    if all(bool(torch.isfinite(p[c.weight]).all()) for c in cons):
        return  # the usual case, one check per tensor
    for j in range(L.width):
        if all(bool(torch.isfinite(c.columns(p[c.weight].detach(), j)).all()) for c in cons):
            continue
        model = copy.deepcopy(view.model)  # a copy's tensors are ordinary ones, even from inference mode
        v = NetView(model)
        q = v.params()
        for c in cons:
            c.columns(q[c.weight].detach(), j).zero_()
        s = evaluate_masks(v, x, y, num_classes, {L.index: mask[j : j + 1]})
        scores.accuracy[j], scores.per_class[j], scores.loss[j] = s.accuracy[0], s.per_class[0], s.loss[0]
