"""Neuron edits in weight space: remove, scale, clamp — each exactly what the mask of
:meth:`~metanet.inspect.netview.NetView.forward` does to the neuron's output, so the architecture (and the
file format) stays the same and the edited network loads with :func:`metanet.load`.

- **remove**: the neuron's output becomes 0. Its incoming weights and bias are zeroed; its outgoing weights are
  zeroed where they read this neuron alone. On a residual MLP the stream position it writes to also carries
  other layers' neurons, so there the outgoing weights stay and, for an activation with ``act(0) != 0``
  (sigmoid), the constant ``act(0)`` is folded out of the biases of every layer that reads it. The layer keeps
  its width (physically shrinking it would change the architecture, the neural graph and the zoo layout);
  the removed neuron is a zero row/column, which pruning statistics count as sparsity. A neuron removed already
  is left as it is (a second removal folded ``act(0)`` out of the biases twice).
- **scale**: the neuron's output times a factor: its outgoing weights are scaled when they read this neuron
  alone, else (residual stream) its incoming weights and bias, which is exact for positively homogeneous
  activations (ReLU, leaky ReLU, identity) and factors >= 0. A factor of 0 silences the neuron as removing it does,
  so it follows remove's rule: it may not leave a layer with no working neuron.
- **clamp**: the neuron's output fixed to a constant for every input: incoming weights zeroed and the bias
  set to ``act^-1(value)`` (needs a bias and a value the activation can output). Clamping every neuron of a layer
  is allowed: it is mean ablation of the whole layer (each neuron still sends the next layer the value it chose),
  a measurement asked for by naming every neuron and a value, where removing or scaling by 0 a whole layer (the
  network's output no longer depends on its input) is almost always a selection that went too far.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np
import torch
from torch import Tensor
from metanet.errors import ArchError, whole_number
from metanet.inspect.netview import Layer, NetView

__all__ = ["parse_neurons", "parse_neuron_values", "remove_neurons", "scale_neurons", "scale_route",
           "clamp_neurons", "removed", "act_at_zero", "inverse_activation", "NEURON_GRAMMAR"]

NEURON_GRAMMAR = ("LAYER:IDX[,IDX|A-B...] joined by ';' (input = layer 0, first hidden layer = 1), "
                  "e.g. '1:3,17,22;2:5' or '1:0-7'")
_HOMOGENEOUS = {"relu", "leaky_relu", "identity", None}


def _ints(text: str, what: str, width: int) -> list[int]:
    """The indices of ``"3,17,0-7"``. A range is cut just past the layer's ``width`` before it is built (keeping its
    first index the layer lacks, for the caller's message): ``0-99999999999999999999`` is no list to make."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if m and int(m[1]) > int(m[2]):  # range() would be empty: '5-3,7' selected 7 alone, silently
            raise ArchError(f"{what} range {part!r} runs backwards; write it as {m[2]}-{m[1]}")
        try:
            out += list(range(int(m[1]), min(int(m[2]), max(int(m[1]), width)) + 1)) if m else [int(part)]
        except (TypeError, ValueError):
            raise ArchError(f"malformed {what} {part!r}; expected {NEURON_GRAMMAR}") from None
    return out


def parse_neurons(spec: Any, v: NetView) -> dict[int, list[int]]:
    """Neurons as ``{layer: sorted indices}``, checked against the network.

    ``spec``: ``"1:3,17;2:5"`` (see :data:`NEURON_GRAMMAR`), a ``(layer, index)`` tuple, a list of them (or an
    ``(N, 2)`` integer array or tensor of them), or a dict ``{layer: index or [indices]}``.

    Raises:
        ArchError: malformed, an unknown layer or an index outside the layer (the message lists what exists).
    """
    pairs: list[tuple[int, int]] = []
    if isinstance(spec, str):
        for chunk in re.split(r"[;\s]+", spec.strip()):
            if not chunk:
                continue
            if ":" not in chunk:
                raise ArchError(f"malformed neuron selection {chunk!r}; expected {NEURON_GRAMMAR}")
            layer_s, idx = chunk.split(":", 1)
            L = v.layer(layer_s.strip())  # ArchError naming the hidden layers if unknown
            pairs += [(L.index, j) for j in _ints(idx, "neuron index", L.width)]
    elif isinstance(spec, dict):
        for layer, idx in spec.items():
            if whole_number(idx) is not None:
                idxs = [idx]
            else:
                try:
                    idxs = list(idx)
                except TypeError:
                    raise ArchError(f"neurons {idx!r} of layer {layer!r} are neither an index nor a list of "
                                    f"indices; expected {NEURON_GRAMMAR}") from None
            pairs += [(layer, j) for j in idxs]
    elif isinstance(spec, tuple) and len(spec) == 2 and all(whole_number(s) is not None for s in spec):
        pairs = [spec]
    elif isinstance(spec, Iterable) and getattr(spec, "ndim", 1) != 0:  # a 0-d tensor / array cannot be iterated
        for item in spec:
            if isinstance(item, (torch.Tensor, np.ndarray)) and item.ndim == 1:
                item = item.tolist()  # rows of an (N, 2) array, e.g. torch.nonzero of a (layer, neuron) mask
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise ArchError(f"neuron {item!r} is not a (layer, index) pair; expected {NEURON_GRAMMAR}")
            pairs.append((item[0], item[1]))
    else:
        raise ArchError(f"cannot read neurons from {spec!r}; expected {NEURON_GRAMMAR} or (layer, index) pairs")
    if not pairs:
        raise ArchError(f"no neurons selected; expected {NEURON_GRAMMAR}")
    out: dict[int, set[int]] = {}
    for layer, j in pairs:
        L = v.layer(layer)
        i = whole_number(j)
        if i is None:
            raise ArchError(f"neuron {j!r} of layer {L.index} is not an integer index; valid: 0..{L.width - 1}")
        j = i
        if not 0 <= j < L.width:
            raise ArchError(
                f"neuron {j!r} of layer {L.index} does not exist: layer {L.index} has {L.width} {L.kind}s "
                f"(0..{L.width - 1})"
            )
        out.setdefault(L.index, set()).add(j)
    return {k: sorted(s) for k, s in sorted(out.items())}


def parse_neuron_values(spec: Any, v: NetView, what: str = "value") -> dict[tuple[int, int], float | None]:
    """``{(layer, idx): value}`` from ``"1:3=0.5;2:2,4=0"`` (a missing ``=value`` gives None) or a dict."""
    if isinstance(spec, dict) and all(isinstance(k, tuple) for k in spec):
        sel = parse_neurons(list(spec), v)
        return {(l, j): (None if spec[(l, j)] is None else _number(spec[(l, j)], what)) for l, js in sel.items()
                for j in js}
    if not isinstance(spec, str):
        raise ArchError(f"cannot read neuron {what}s from {spec!r}; expected 'LAYER:IDX[,IDX]=NUMBER;...'")
    out: dict[tuple[int, int], float | None] = {}
    for chunk in re.split(r"[;\s]+", spec.strip()):
        if not chunk:
            continue
        sel, _, val = chunk.partition("=")
        try:
            x = float(val) if val.strip() else None
        except ValueError:
            raise ArchError(f"malformed {what} {val!r} in {chunk!r}; expected a number, e.g. '1:3=0.5'") from None
        if x is not None and not math.isfinite(x):
            raise ArchError(f"{what} {val!r} in {chunk!r} is not finite; expected a finite number")
        for layer, js in parse_neurons(sel, v).items():
            out.update({(layer, j): x for j in js})
    if not out:
        raise ArchError("no neurons selected; expected 'LAYER:IDX[,IDX]=NUMBER;...'")
    return out


def _number(value: Any, what: str) -> float:
    """``value`` as a finite float; ArchError naming ``what`` otherwise (an inf / NaN bias would make every
    output of the network inf / NaN, which verification would only report afterwards)."""
    try:
        if isinstance(value, (bool, np.bool_)) or getattr(value, "dtype", None) == torch.bool:
            raise TypeError  # True is no factor of 1: a flag passed where the number belongs
        x = float(value)
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a tensor of several numbers
        raise ArchError(f"{what} {value!r} is not a number; valid: a finite number") from None
    if not math.isfinite(x):
        raise ArchError(f"{what} {x} is not finite; valid: a finite number")
    return x


# ------------------------------------------------------------------------------------- activations
def _chain(name: str | None) -> list[str]:
    """The activations a neuron applies, in order: ``"tanh+relu"`` (a :class:`~metanet.inspect.netview.Layer`
    of an ``nn.Sequential`` stacking several) is ``["tanh", "relu"]``; None is none."""
    return [n for n in (name or "").split("+") if n]


def act_at_zero(name: str | None) -> float:
    """The neuron's output at pre-activation 0 (``act(0)``; of the whole chain, e.g. ``relu(sigmoid(0)) = 0.5``)."""
    x = torch.zeros((), dtype=torch.float64)
    for n in _chain(name):
        x = _act_fn(n)(x)
    return float(x)


def _act_fn(name: str | None):
    from metanet.nets import activation

    return activation(name or "identity")


# (argmin, minimum) of the non-monotonic activations: they are invertible on [argmin, inf)
_NONMONO = {"gelu": (-0.7517916, -0.1699712), "silu": (-1.2784645, -0.2784645)}


def inverse_activation(name: str | None, value: float) -> float:
    """A pre-activation ``b`` with ``act(b) == value``; ArchError naming the valid range otherwise. A chain
    (``"tanh+relu"``: ``relu(tanh(b))``) is inverted from its last activation back."""
    v = _number(value, "clamp value")
    chain = _chain(name)
    if len(chain) > 1:
        b = v
        for n in reversed(chain):
            try:
                b = inverse_activation(n, b)
            except ArchError as e:
                raise ArchError(f"a {name} neuron (its activations {', then '.join(chain)}) cannot output {v:g}: "
                                f"{e}") from None
        return b
    if name in (None, "identity"):
        return v
    if name == "relu" and v >= 0:
        return v
    if name == "leaky_relu":
        return v if v >= 0 else v / 0.01
    if name == "tanh" and -1 < v < 1:
        return math.atanh(v)
    if name == "sigmoid" and 0 < v < 1:
        return math.log(v / (1 - v))
    if name in _NONMONO and v >= _NONMONO[name][1]:
        f = _act_fn(name)
        lo, hi = _NONMONO[name][0], max(1.0, abs(v) + 1.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(f(torch.tensor(mid, dtype=torch.float64))) < v:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)
    valid = {"relu": "[0, inf)", "tanh": "(-1, 1)", "sigmoid": "(0, 1)", "gelu": "[-0.16997, inf)",
             "silu": "[-0.27846, inf)"}.get(name, "its range")
    raise ArchError(f"a {name} neuron cannot output {v:g}; valid clamp values for {name}: {valid}")


# ------------------------------------------------------------------------------------- edits
def removed(v: NetView, layer: int) -> set[int]:
    """Neurons of ``layer`` that are already removed (zero incoming weights and bias)."""
    p = v.params()
    L = v.layer(layer)
    w = p[L.weight].detach()
    dead = (w.reshape(w.shape[0], -1) == 0).all(1)
    if L.bias:
        dead &= p[L.bias].detach() == 0
    return set(torch.nonzero(dead).flatten().tolist())


def silenced(v: NetView, layer: int) -> set[int]:
    """Neurons of ``layer`` that no longer work: removed (:func:`removed`), or read by no layer (their columns are 0
    in every weight reading them alone: scaled by 0 through their outgoing weights)."""
    out = removed(v, layer)
    L = v.layer(layer)
    if L.consumers and all(c.exclusive for c in L.consumers):
        p = v.params()
        read = torch.zeros(L.width, dtype=torch.bool)
        for c in L.consumers:  # columns j*group .. (j+1)*group of each weight read neuron j (Consumer.columns)
            w = p[c.weight].detach()
            read |= w.reshape(w.shape[0], L.width, -1).ne(0).any(2).any(0)
        out |= set(torch.nonzero(~read).flatten().tolist())
    return out


def _check_not_all(v: NetView, sel: dict[int, list[int]], what: str = "removing") -> None:
    """ArchError when removing ``sel`` (or scaling it by 0, which silences it the same way) would leave a layer with
    no working neuron (neurons removed already, as :func:`removed` counts them, included; for a scaling by 0 also
    those read by no layer, as :func:`silenced` counts them: two scalings by 0 of half a layer each silenced it all).
    A removal does not count those: a hand-built neuron with no outgoing weights is one of the layer's, as before."""
    for layer, js in sel.items():
        L = v.layer(layer)
        gone = removed(v, layer)
        quiet = silenced(v, layer) if what != "removing" else gone
        if len(quiet | set(js)) >= L.width:
            more = f", {len(quiet - gone)} read by no layer (scaled by 0)" if quiet - gone else ""
            raise ArchError(
                f"{what} {len(js)} {L.kind}(s) of layer {layer} would leave it with no working {L.kind} "
                f"(it has {L.width}, {len(gone)} already removed{more}); keep at least one"
            )


def _consumer_bias_needed(L: Layer, what: str) -> None:
    for c in L.consumers:
        if not c.exclusive and c.bias is None:
            raise ArchError(
                f"cannot {what} neurons of layer {L.index}: its {L.activation} outputs act(0) = "
                f"{act_at_zero(L.activation)} into a residual stream, and the reading layer ({c.weight}) has no "
                "bias to cancel it; valid: networks with biases, or activations with act(0) = 0"
            )


@torch.no_grad()
def remove_neurons(v: NetView, sel: dict[int, list[int]]) -> list[tuple[int, int]]:
    """Remove neurons in place (see the module docstring); returns those of ``sel`` that were removed already
    (zero incoming weights and bias, as :func:`removed` counts them), which are left as they are. Raises
    ArchError (nothing changed) when it would empty a layer or cannot be done exactly."""
    _check_not_all(v, sel)
    for layer in sel:
        L = v.layer(layer)
        if act_at_zero(L.activation) != 0:
            _consumer_bias_needed(L, "remove")
    p = v.params()
    already: list[tuple[int, int]] = []
    for layer, js in sel.items():
        L = v.layer(layer)
        c0 = act_at_zero(L.activation)
        gone = removed(v, layer)
        residual = not all(c.exclusive for c in L.consumers)
        for j in js:
            if j in gone and c0 != 0 and residual:
                # its act(0) was folded out of the biases when it was removed: folding it out again changed the
                # network (a removed neuron "removed" a second time)
                already.append((layer, j))
                continue
            if j in gone and (c0 == 0 or all(not bool(c.columns(p[c.weight], j).any()) for c in L.consumers)):
                already.append((layer, j))  # its output is 0 already, or read by no one: the edit changes nothing
            p[L.weight][j].zero_()
            if L.bias:
                p[L.bias][j] = 0
            for c in L.consumers:
                cols = c.columns(p[c.weight], j)
                if c.exclusive:
                    cols.zero_()
                elif c0 != 0:
                    p[c.bias] -= c0 * cols.sum(dim=1)
    return already


def scale_route(L: Layer, factor: float) -> str | None:
    """How to scale the outputs of ``L``'s neurons by ``factor`` exactly: ``"outgoing"`` (the weights reading
    them, when they read these neurons alone and the factor passes through what lies between, e.g. not a
    negative one through max pooling), ``"incoming"`` (weights and bias, for a positively homogeneous activation
    and ``factor >= 0``), or None (not possible exactly)."""
    c = L.consumers[0] if len(L.consumers) == 1 else None
    if c is not None and c.exclusive and (c.commutes == "any" or (c.commutes == "positive" and factor >= 0)):
        return "outgoing"
    # a chain of positively homogeneous activations is one too
    if all(n in _HOMOGENEOUS for n in _chain(L.activation)) and factor >= 0:
        return "incoming"
    return None


@torch.no_grad()
def scale_neurons(v: NetView, sel: dict[int, list[int]], factor: float) -> str:
    """Multiply the outputs of neurons by ``factor`` in place; returns how ("outgoing" or "incoming")."""
    factor = _number(factor, "scale factor")
    if factor == 0:  # the outputs become 0, as removing does: a whole layer is refused as remove refuses it
        _check_not_all(v, sel, "scaling by 0")
    p = v.params()
    plans = {}
    for layer in sel:
        L = v.layer(layer)
        plans[layer] = scale_route(L, factor)
        if plans[layer] is None:
            raise ArchError(
                f"cannot scale neurons of layer {layer} by {factor:g} exactly: they write into a residual stream "
                f"or pass through a max pool or activation before the next layer, and {L.activation}(a*x) != "
                f"a*{L.activation}(x); valid: factors >= 0 with relu, leaky_relu or identity activations, or "
                "neurons read directly by the next layer"
            )
    targets: list[tuple[str, Tensor]] = []  # (neuron, view of the parameters its scaling multiplies)
    for layer, js in sel.items():
        L = v.layer(layer)
        for j in js:
            if plans[layer] == "outgoing":
                c = L.consumers[0]
                targets.append((f"{layer}:{j}", c.columns(p[c.weight], j)))
            else:
                targets.append((f"{layer}:{j}", p[L.weight][j]))
                if L.bias:
                    targets.append((f"{layer}:{j}", p[L.bias][j]))
    for name, t in targets:  # all checked before any is changed: a refused edit leaves the network as it was
        big = torch.finfo(t.dtype).max
        # its finite values only: an inf there is not made by the scaling (every factor, even 0.5, was refused as
        # one that "makes a parameter of size inf", with the advice of a smaller factor)
        t = t[torch.isfinite(t)]
        if t.numel() and float(t.abs().max()) * abs(factor) > big:
            raise ArchError(f"scaling neuron {name} by {factor:g} makes a parameter of size "
                            f"{float(t.abs().max()) * abs(factor):g}, more than the network's "
                            f"{str(t.dtype).removeprefix('torch.')} parameters can hold (at most {big:g}: it would "
                            "be inf); valid: a smaller factor")
    for _, t in targets:
        t.mul_(factor)
    return ", ".join(sorted(set(plans.values())))


@torch.no_grad()
def clamp_neurons(v: NetView, values: dict[tuple[int, int], float]) -> None:
    """Fix each neuron's output to ``values[(layer, idx)]`` for every input, in place."""
    p = v.params()
    plan = []
    for (layer, j), val in values.items():
        L = v.layer(layer)
        if not L.bias:
            raise ArchError(f"cannot clamp neurons of layer {layer}: the layer has no bias to hold the constant; "
                            "valid: networks with biases")
        b = inverse_activation(L.activation, val)
        big = torch.finfo(p[L.bias].dtype).max
        if not abs(b) <= big:  # torch refuses to store it ("cannot be converted ... without overflow")
            raise ArchError(f"clamp value {val:g} of neuron {layer}:{j} needs a bias of {b:g}, more than the "
                            f"network's {str(p[L.bias].dtype).removeprefix('torch.')} parameters can hold (at most "
                            f"{big:g} in size); valid: a smaller value")
        plan.append((L, j, b))
    for L, j, b in plan:
        p[L.weight][j].zero_()
        p[L.bias][j] = b
