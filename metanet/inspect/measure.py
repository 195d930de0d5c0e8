"""Batched measurements on a :class:`~metanet.inspect.netview.NetView`: accuracy of K masked variants in one
pass, per-neuron activations, ablation of a whole layer (mask ``1 - eye(H)``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from metanet.inspect.netview import Layer, NetView, _masked, _Stage
from metanet.verify import _scores, predicted

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
    """Predicted classes, ``(K, N)`` with masks, else ``(N,)``; -1 (:data:`~metanet.verify.NO_PREDICTION`) for an
    example whose logits hold a NaN or an infinity: it hits no attack target (argmax made it class 0)."""
    k = next(iter(masks.values())).shape[0] if masks else 0
    bs = _batch(view, x, k)
    # one pass even on no examples: an empty (K, 0) / (0,) result rather than a raw torch.cat error
    out = [predicted(view.forward(x[i : i + bs], masks)[0]) for i in range(0, max(1, len(x)), bs)]
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
    L = view.layer(layer)
    h = L.width
    mask = 1.0 - (1.0 - value) * torch.eye(h)
    rows = _unread_rows(view, L) if value == 0 else []
    if h and len(rows) == h:  # every variant is rescored (a NaN output layer): the masked pass would be thrown away
        f64 = torch.float64
        scores = Scores(torch.zeros(h, dtype=f64), torch.zeros(h, num_classes, dtype=f64), torch.zeros(h, dtype=f64))
    else:
        scores = evaluate_masks(view, x, y, num_classes, {layer: mask})
    if rows:
        _unread_zeroed(view, L, rows, x, y, num_classes, mask, scores)
    return scores


def _unread_rows(view: NetView, L: Layer) -> list[int]:
    """The neurons of ``L`` whose outgoing weights (those reading it alone) hold NaN or inf."""
    p = view.params()
    cons = [c for c in L.consumers if c.exclusive]  # residual stream columns stay: removing leaves them too
    if all(bool(torch.isfinite(p[c.weight]).all()) for c in cons):
        return []  # the usual case, one check per tensor
    return [j for j in range(L.width)
            if not all(bool(torch.isfinite(c.columns(p[c.weight].detach(), j)).all()) for c in cons)]


def _unread_zeroed(view: NetView, L: Layer, rows: list[int], x: Tensor, y: Tensor, num_classes: int, mask: Tensor,
                   scores: Scores) -> None:
    """Rescore, in ``scores``, the variants ``rows`` zeroing a neuron whose outgoing weights hold NaN or inf (see
    :func:`_unread_rows`): its 0 output times them is still NaN, where removing it (:func:`metanet.edit.remove`
    zeroes them too) sends nothing on. So zeroing such a neuron showed no effect, and inspect said that zeroing no
    neuron makes the loss finite again, while removing it did. Each is scored on a copy with those weights zeroed.

    The pass up to ``L``'s outputs is the same for all of them: it runs once per chunk of examples, and only the rest
    once per neuron (a whole pass per neuron made inspect 3x slower on a NaN output layer). The chunks, operations
    and sums are those of :func:`evaluate_masks` on each copy, so the scores are the same bits; a batched pass of
    all of them would read a different weight per variant (another matmul kernel, another rounding)."""
    cons = [c for c in L.consumers if c.exclusive]
    model = copy.deepcopy(view.model)  # a copy's tensors are ordinary ones, even from inference mode
    v = NetView(model)
    q = {name: t.detach() for name, t in v.params().items()}
    at = next(i for i, st in enumerate(v._stages) if st.layer.index == L.index)
    stage = v._stages[at]
    # two views of the copy (its forward keeps the dtype and eval-mode handling): up to L's outputs, and from them
    upto = copy.copy(v)
    upto._stages, upto._head = [*v._stages[:at], _Stage(L, stage.pre, lambda h, z: z)], lambda h: h
    rest = copy.copy(v)  # fed the masked outputs (post ignores h: L has no skip)
    rest._stages = [_Stage(L, lambda h: h, stage.post), *v._stages[at + 1 :]]
    correct = [torch.zeros(1, dtype=torch.long) for _ in rows]
    loss = [torch.zeros(1, dtype=torch.float64) for _ in rows]
    per_class = [torch.zeros(1, num_classes, dtype=torch.float64) for _ in rows]
    bs = _batch(v, x, 1)
    for i in range(0, len(x), bs):
        xb, yb = x[i : i + bs], y[i : i + bs]
        z = upto.forward(xb)[0]
        zk = z.unsqueeze(0)
        finite = bool(torch.isfinite(zk).all())  # once per chunk, not per neuron (it cost half the time)
        for r, j in enumerate(rows):
            zm = _masked(zk, mask[j : j + 1], L, finite)  # NetView.forward's masking with K = 1
            rest._prelude = lambda _x, zm=zm.reshape(z.shape): zm
            kept = [c.columns(q[c.weight], j).clone() for c in cons]
            for c in cons:
                c.columns(q[c.weight], j).zero_()
            logits = rest.forward(xb)[0].unsqueeze(0)
            for c, w in zip(cons, kept):  # back as it was: the next neuron's copy zeroes only its own columns
                c.columns(q[c.weight], j).copy_(w)
            c_, l_, pc = _scores(logits, yb, num_classes)
            correct[r] += c_
            loss[r] += l_
            per_class[r] += pc
    counts = torch.bincount(y, minlength=num_classes).double()
    n = len(y)
    for r, j in enumerate(rows):
        scores.accuracy[j], scores.per_class[j], scores.loss[j] = (
            (correct[r].double() / n)[0], (per_class[r] / counts)[0], (loss[r] / n)[0])
