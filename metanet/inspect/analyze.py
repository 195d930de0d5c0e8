"""`inspect(model, task) -> NeuronDB`: measure what every hidden neuron does on a task's data."""

from __future__ import annotations

import math
import numbers
import time
from typing import Any, Callable

import torch
from torch import Tensor, nn

from metanet._state import kept_modes, with_metanet_defaults
from metanet.errors import ConfigError, TaskError, whole_number
from metanet.inspect.db import SELECTIVE, NeuronDB
from metanet.inspect.measure import ablate_layer, activations, channel_spans, evaluate_masks
from metanet.inspect.netview import NetView, as_model, view
from metanet.tasks import resolve
from metanet.tasks.resolve import task_input_shape, task_name
from metanet.verify import check_fits

__all__ = ["inspect", "weight_norms", "describe_weights", "robust_z", "nonfinite_neurons"]

_PLACES = (
    ("top left", "top centre", "top right"),
    ("middle left", "centre", "middle right"),
    ("bottom left", "bottom centre", "bottom right"),
)


def weight_norms(v: NetView, layer: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """(incoming norm, outgoing norm, bias) of each neuron of ``layer``."""
    p = v.params()
    L = v.layer(layer)
    w = p[L.weight].detach()
    # squares of weights beyond 1e18 overflow float32 (a norm of inf for finite 1e29 weights), those below 1e-18
    # underflow (0 for 1e-30 ones): such layers in float64, others as before (bit-identical norms)
    wide = any(bool((a > 1e18).any() or ((a > 0) & (a < 1e-18)).any())
               for a in (p[n].detach().abs() for n in (L.weight, *(c.weight for c in L.consumers))))
    in_norm = w.reshape(w.shape[0], -1).to(torch.float64 if wide else w.dtype).norm(dim=1)
    # a float64 network's norms in float64 (float32 lost digits), a half one's in float32 as before
    out_sq = torch.zeros(L.width, dtype=torch.float64 if wide else torch.promote_types(w.dtype, torch.float32))
    for c in L.consumers:
        wc = p[c.weight].detach().to(out_sq.dtype) if wide else p[c.weight].detach()
        # columns of neuron j: wc[:, j*group:(j+1)*group] (conv consumer: input channel j, any kernel)
        per = wc.reshape(wc.shape[0], L.width, -1) if wc.dim() == 2 else wc.transpose(0, 1).reshape(L.width, -1)
        out_sq += (per.pow(2).sum(dim=(0, 2)) if wc.dim() == 2 else per.pow(2).sum(1))
    bias = p[L.bias].detach() if L.bias else None
    return in_norm, out_sq.sqrt(), bias


def describe_weights(w: Tensor, image_shape: tuple[int, ...]) -> list[str]:
    """For each row of ``w`` (first-layer input weights of one neuron each, over an image): where it puts
    its positive ("bright pixels") and negative ("dark pixels") weight, on a 3x3 grid of the image.

    A place is named when it holds at least 20% of the neuron's positive (negative) weight and 1.3 times the
    layer's average share there, so a place every neuron weighs (the centre of a digit) is not news.
    """
    img = w.reshape(w.shape[0], *image_shape).float().mean(1)  # (H, h, w): channel mean
    h, wd = img.shape[1:]
    rows = [slice(r * h // 3, (r + 1) * h // 3) for r in range(3)]
    cols = [slice(c * wd // 3, (c + 1) * wd // 3) for c in range(3)]
    out = [[] for _ in range(w.shape[0])]
    for sign, verb in ((1, "bright"), (-1, "dark")):
        part = (sign * img).clamp(min=0)
        cells = torch.stack([part[:, r, c].sum((1, 2)) for r in rows for c in cols], 1)  # (H, 9)
        share = cells / cells.sum(1, keepdim=True).clamp(min=1e-12)
        ok = torch.isfinite(share).all(1)
        # a neuron with a NaN/inf weight has no shares; the layer's average without it (it made every ratio NaN, and
        # no neuron of the layer was described)
        avg = share.mean(0, keepdim=True) if bool(ok.all()) else share[ok].mean(0, keepdim=True)
        ratio = share / avg.clamp(min=1e-12)
        for j in range(w.shape[0]):
            ok = (share[j] >= 0.2) & (ratio[j] >= 1.3)
            if ok.any():
                k = int(torch.where(ok, ratio[j], torch.zeros_like(ratio[j])).argmax())
                out[j].append(f"{verb} pixels at the {_PLACES[k // 3][k % 3]}")
    return ["looks for " + " and ".join(words) if words else "" for words in out]


def _median(t: Tensor) -> Tensor:
    """The median of ``t``'s values as numpy gives it: the mean of the two middle ones for an even count
    (``Tensor.median`` gives the lower one), in ``t``'s dtype."""
    s = t.flatten().sort().values
    lo, hi = s[(len(s) - 1) // 2], s[len(s) // 2]
    mid = (lo + hi) / 2
    return torch.where(torch.isfinite(mid), mid, lo + (hi - lo) / 2)  # lo + hi overflowed: both huge, one sign


def robust_z(x: Tensor) -> Tensor:
    """(x - median) / (1.4826 * MAD); median and MAD of the finite values only (one NaN neuron made both NaN, and
    every outlier score of its layer 0), so a non-finite value's own score is ±inf/NaN. When more than half the
    values are equal (a hand-built layer) the MAD is 0 however far the others lie: then the mean absolute deviation
    from the median (times 1.2533), at least 1e-4 of the median (float rounding is no outlier), is the spread (a
    single rogue neuron among equal ones, a weight of 1000 where the others have 10, scored 0)."""
    ok = torch.isfinite(x)
    f = x if bool(ok.all()) else x[ok]
    if len(f) == 0:
        return torch.zeros_like(x)
    med = _median(f)
    mad = _median((f - med).abs()) * 1.4826
    if not torch.isfinite(mad) or mad <= 1e-12:
        mad = torch.maximum((f - med).abs().mean() * 1.2533, 1e-4 * med.abs())
    if not torch.isfinite(mad) or mad <= 1e-12:
        return torch.where(ok, torch.zeros_like(x), x - med)  # a non-finite value's own ±inf/NaN, as promised
    return (x - med) / mad


def _alive_z(x: Tensor, dead: Tensor) -> Tensor:
    """:func:`robust_z` of the live neurons among themselves: a dead neuron's tail of 0 is not the layer's typical
    value (with more than half the layer dead, the median was 0 and most live neurons scored z >= 4). Dead neurons
    keep their score within the whole layer; a layer all dead or all alive is scored as a whole."""
    z = robust_z(x)
    if bool(dead.any()) and not bool(dead.all()):
        z[~dead] = robust_z(x[~dead])
    return z


def _kinds(t: Tensor) -> str:
    """"NaN", "inf" or "NaN and inf": the non-finite values ``t`` holds ("" for none)."""
    nan, inf = bool(t.isnan().any()), bool(t.isinf().any())
    return " and ".join(w for w, has in (("NaN", nan), ("inf", inf)) if has)


def nonfinite_neurons(v: NetView, layer: int, outputs: Tensor) -> list[str | None]:
    """Per neuron of ``layer``: which of its numbers are not finite (``"NaN incoming weights, inf outputs"``), None
    when all are. ``outputs``: its measured outputs ``(N, width)`` (activations of a network whose weights are all
    finite can still overflow)."""
    p = v.params()
    L = v.layer(layer)
    w = p[L.weight].detach()
    b = p[L.bias].detach() if L.bias else None
    if (bool(torch.isfinite(outputs).all()) and bool(torch.isfinite(w).all())
            and (b is None or bool(torch.isfinite(b).all()))
            and all(bool(torch.isfinite(p[c.weight]).all()) for c in L.consumers)):
        return [None] * L.width  # the usual case, in one check per tensor
    out: list[str | None] = []
    for j in range(L.width):
        parts = [(w[j], "incoming weights"), *(((b[j], "bias"),) if b is not None else ()),
                 *((c.columns(p[c.weight].detach(), j), "outgoing weights") for c in L.consumers),
                 (outputs[:, j], "outputs")]
        said: dict[str, str] = {}  # one entry per name: several consumers' outgoing weights are one
        for t, what in parts:
            k = _kinds(t)
            if k:
                said[what] = k if what not in said or said[what] == k else "NaN and inf"
        out.append(", ".join(f"{k} {what}" for what, k in said.items()) or None)
    return out


def _reader_roles(model: nn.Module, reader: Any) -> tuple[dict[tuple[int, int], str] | None, str]:
    """Roles predicted by ``reader`` (a callable like ``metanet.read``; "auto" uses it when it exists)."""
    if reader is None or reader is False:
        return None, "not requested"
    if reader == "auto":
        import metanet

        read = getattr(metanet, "read", None)
        if read is None:
            return None, "no reader available"
        # the roles need no trigger scan: metanet.read ran it by default and it was thrown away (19 s instead of
        # 1.5 s for a digits MLP, minutes for a small CNN; the demo's inspect stage too)
        reader = lambda m: read(m, scan=False)  # noqa: E731
    elif isinstance(reader, nn.Module):  # a Reader (imported only then: it loads PyTorch Geometric)
        from metanet.reader.model import Reader
        from metanet.reader.predict import read

        if isinstance(reader, Reader):
            # a Reader (e.g. Reader.load(path)) is callable, but on graphs: called on the model it failed and every
            # role was "reader failed". Read with it as metanet.read does (the roles need no trigger scan)
            custom = reader
            reader = lambda m: read(m, reader=custom, scan=False)  # noqa: E731
    try:
        pred = reader(model)
    except Exception as e:  # roles are optional: a reader that fails must not fail the inspection
        return None, f"reader failed: {type(e).__name__}: {e}"
    neurons = pred.get("neurons") if isinstance(pred, dict) else None
    if not isinstance(pred, dict) or not (neurons is None or isinstance(neurons, (list, tuple))):  # a raw TypeError
        return None, f"reader failed: it returned {str(pred)[:60]!r}, not a dict with a list of 'neurons'"
    roles = {}
    for n in neurons or []:  # same numbering (the neural graph's): first hidden layer = 1
        if isinstance(n, dict) and n.get("role", "") is None:  # a role the reader does not read (a CNN's channel)
            continue
        try:
            role = str(n["role"]) + (f":{int(n['class'])}" if n.get("class") is not None else "")
            roles[(int(n["layer"]), int(n["index"]))] = role
        except (KeyError, TypeError, ValueError, AttributeError):  # AttributeError: a row that is a list
            continue
    why = pred.get("roles_not_read")
    if not roles and isinstance(why, str):  # a CNN's channels: INDEX.md said "Reader roles: from the reader" of none
        return None, f"not read ({why})"
    return roles, "from the reader"


@with_metanet_defaults()  # under set_default_device('meta') the masks and probes were made there
@torch.no_grad()
def inspect(
    model: nn.Module,
    task,
    split: str = "test",
    *,
    reader: Callable | str | None = "auto",
    support_threshold: float = 0.02,
    top_k: int = 8,
    max_examples: int | None = None,
) -> NeuronDB:
    """Measure every hidden neuron of ``model`` on ``task``'s ``split``.

    Per neuron: layer, index, incoming/outgoing weight norms, bias, activation statistics (mean, std, max,
    fraction active, dead), class selectivity (class with the highest mean output and how selective), the
    ablation effect (change of accuracy overall and per class when it is zeroed; all neurons of a layer in one
    vectorised pass), the classes it supports (those losing at least ``support_threshold`` accuracy and at least
    two of their examples), a polysemanticity score (spread of classes among its ``top_k``-or-more top-activating
    examples), an outlier score (a live neuron's among the live neurons of its layer), a description of its input
    weights (first layer on image tasks), the reader's role (when ``reader`` — default: ``metanet.read`` if it
    exists — is available) and which of its weights and outputs are not finite (a network with a NaN or inf weight
    is measured, not refused: this is how to find it).

    Args:
        model: a metanet ``MLP`` (residual skips included), ``CNN`` (channels are the neurons) or a plain
            ``nn.Sequential`` of supported layers; or, as :func:`metanet.verify` takes them, the path of a network
            saved with :func:`metanet.save` (only read), :func:`metanet.generate`'s result (its ``.model``) or a
            :class:`~metanet.graph.NeuralGraph` (decoded with :func:`~metanet.graph.from_graph`).
        task: a task spec (:func:`metanet.tasks.resolve`): a :class:`~metanet.tasks.Task`, a task name, a
            sentence or labelled examples ``(x, y)``. A task without class names of its own (examples given
            without ``class_names``) takes those that ``model``'s file or report recorded (``generate`` records
            them), for the database's ``class_names`` and descriptions.
        split: data to measure on.
        reader: ``"auto"``, ``None``, a :class:`~metanet.reader.Reader` (e.g. ``Reader.load(path)``: the roles
            :func:`metanet.read` gives with it) or a callable ``model -> dict`` with
            ``neurons: [{layer, index, role}]``.
        support_threshold: accuracy drop of a class (fraction) that makes a neuron count as supporting it (it
            must also cost the class two examples: one example of a small class is noise).
        top_k: top-activating examples stored per neuron.
        max_examples: use only the first this many examples of the split (None: all); at least 2 must remain (on
            one example every output is constant, and every neuron would look dead).

    Raises:
        ArchError: the network is not supported or does not fit the task.
        ConfigError: a ``reader`` that is none of the above.
        FileFormatError: a path that is no network file (see :func:`metanet.load`).
        GraphError: a malformed graph (see :func:`~metanet.graph.from_graph`).
        TaskError: a task or split that does not exist, fewer than 2 examples to measure on (after
            ``max_examples``), a ``support_threshold`` that is no fraction in [0, 1], or a ``top_k`` or
            ``max_examples`` that is no whole number >= 1.
    """
    t0 = time.perf_counter()
    task = resolve(task)
    # a task given as any object with split and num_classes may have no name or input_shape (as generate takes it)
    shape, name = task_input_shape(task), task_name(task)
    x, y = task.split(split)
    if max_examples is not None:
        n = whole_number(max_examples)  # a numpy / torch integer too, as everywhere else an index is read
        if isinstance(max_examples, bool) or n is None or n < 1:
            raise TaskError(f"max_examples must be None (the whole split) or an integer >= 1, got {max_examples!r}")
        x, y = x[:n], y[:n]
    if len(y) == 0:
        raise TaskError(f"split {split!r} of task {name!r} has no examples to measure the neurons on")
    if len(y) == 1:  # every neuron was recorded dead: constant on the one example
        raise TaskError(f"inspect needs at least 2 examples to tell a dead (constant) neuron from a live one; split "
                        f"{split!r} of task {name!r}" + (f" with max_examples={max_examples!r}"
                                                             if max_examples is not None else "") + " gives 1")
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
        raise TaskError(f"top_k must be an integer >= 1 (top-activating examples stored per neuron), got {top_k!r}")
    # NaN fails too; True was a threshold of 1.0 (no neuron supports any class)
    if (isinstance(support_threshold, bool) or not isinstance(support_threshold, numbers.Real)
            or not 0 <= support_threshold <= 1):
        raise TaskError(f"support_threshold must be an accuracy drop in [0, 1] (0.02 = two points), got "
                        f"{support_threshold!r}")
    # isinstance first: a numpy array's == is elementwise (a raw "truth value is ambiguous" ValueError)
    if not (reader is None or reader is False or (isinstance(reader, str) and reader == "auto") or callable(reader)):
        # anything else was called, failed, and was recorded as "reader failed": a typo went unnoticed
        raise ConfigError(f"inspect reader must be 'auto', None or a callable model -> dict, got {reader!r:.80}")
    given = model
    model = as_model(model)[0]  # a saved network's path, a Generated or a NeuralGraph: the network it stands for
    v = view(model)  # first: a clear error for an unsupported module
    check_fits(model, tuple(x.shape[1:]), task.num_classes, where=f"task {name!r}")
    # measure in eval mode (no dropout), then give the caller's model back in the mode it came in
    with kept_modes(model, eval=True):
        return _measure(model, v, task, shape, name, split, x, y, reader, float(support_threshold), int(top_k), t0,
                        _class_names(task, given))


def _class_names(task, given: Any) -> list[str]:
    """What each output means: the task's own class names; for a task without names of its own (labelled
    examples ``(x, y)``, a task-like object without ``class_names``), the names that the saved file's metadata or
    the Generated's report recorded (:attr:`~metanet.writer.GenerationReport.class_names`), else ``0..C-1``."""
    from metanet.tasks import Task

    C = task.num_classes
    numbers_only = [str(c) for c in range(C)]
    own = getattr(task, "class_names", None)
    try:
        own = None if own is None or isinstance(own, (str, bytes)) else [str(n) for n in own]
    except TypeError:  # a task-like object's class_names that is no list (a number): no names
        own = None
    own = own if own is not None and len(own) == C else None  # not one name per class: no names
    # examples given without class_names are only numbered 0..C-1: the names the file recorded say more
    if own is not None and not (isinstance(task, Task) and task.base == "examples" and own == numbers_only):
        return own
    from metanet.io import recorded_class_names, recorded_meta
    from metanet.verify import _is_generated

    recorded = (getattr(getattr(given, "report", None), "class_names", None) if _is_generated(given)
                else recorded_meta(given).get("class_names"))  # a path: already loaded by as_model, readable
    return recorded_class_names(recorded, C) or own or numbers_only


def _loss_change(ablated: float, base: float) -> float:
    """The change of the loss when a neuron is zeroed. From a non-finite loss, inf - inf was NaN for every neuron,
    which hid the one neuron whose zeroing brings the loss back: -inf for it, NaN where the loss stays non-finite."""
    if math.isfinite(base):
        return ablated - base
    return -math.inf if math.isfinite(ablated) else math.nan


def _measure(model: nn.Module, v: NetView, task, shape: tuple[int, ...], name: str, split: str, x: Tensor,
             y: Tensor, reader: Any, support_threshold: float, top_k: int, t0: float, names: list[str]) -> NeuronDB:
    """The measurements of :func:`inspect`, on a model in eval mode (``shape``, ``name``: the task's input shape
    and name, as :func:`~metanet.tasks.resolve.task_input_shape` and ``task_name`` read them)."""
    C = task.num_classes
    base = evaluate_masks(v, x, y, C, {})
    base_acc, base_pc, base_loss = float(base.accuracy[0]), base.per_class[0], float(base.loss[0])
    acts = activations(v, x)
    spans = channel_spans(v, x) if any(L.conv for L in v.layers) else {}
    counts = torch.bincount(y, minlength=C).double()
    roles, reader_status = _reader_roles(model, reader)
    image = len(shape) == 3 and shape[1] > 1 and shape[2] > 1
    params = v.params()
    head = v.regions[-1].weight
    k_poly = max(top_k, min(100, len(x) // 50))
    rows: list[dict[str, Any]] = []
    layer_info = {}
    for L in v.layers:
        a = acts[L.index].double()  # (N, H)
        H = L.width
        abl = ablate_layer(v, L.index, x, y, C)
        d_pc = abl.per_class - base_pc  # (H, C)
        in_norm, out_norm, bias = weight_norms(v, L.index)
        mean, std, amax = a.mean(0), a.std(0, unbiased=False), a.max(0).values
        frac = (a > 0).double().mean(0)
        dead = std <= 1e-7 * (1 + mean.abs())
        if L.conv:  # a map that varies over space is not dead, even when its spatial mean is the same everywhere
            dead &= spans[L.index].double() <= 1e-7 * (1 + mean.abs())
        cm = torch.zeros(C, H, dtype=torch.float64).index_add_(0, y, a) / counts.clamp(min=1)[:, None]  # (C, H)
        cm[counts == 0] = math.nan
        top_class = torch.nan_to_num(cm, nan=-math.inf).argmax(0)
        mx = cm.gather(0, top_class[None]).squeeze(0)
        rest = (torch.nan_to_num(cm, nan=0).sum(0) - mx) / max(1, int((counts > 0).sum()) - 1)
        sel = (mx - rest) / (mx.abs() + rest.abs() + 1e-12)
        order = a.argsort(0, descending=True)  # (N, H)
        top_poly = y[order[:k_poly]]  # (k, H)
        # only examples above the neuron's lowest output count: a ReLU active on 2 examples of class 3 had 6 of its
        # 8 "top" examples drawn from the tie at 0 (any class), and scored 0.42 for firing on one class
        above = (a.gather(0, order[:k_poly]) > a.min(0).values).double()
        above[:, above.sum(0) == 0] = 1.0  # none above (constant, NaN): all k, as before
        hist = torch.zeros(C, H, dtype=torch.float64).scatter_add_(0, top_poly, above)
        p = hist / hist.sum(0, keepdim=True)
        ent = -(p * p.clamp(min=1e-12).log()).sum(0)
        poly = (ent.exp() - 1) / max(1, C - 1)
        thr = torch.maximum(torch.full((C,), support_threshold, dtype=torch.float64), 2 / counts.clamp(min=1))
        tail = (amax - mean) / (std + 1e-8)
        outlier = torch.stack([_alive_z(tail, dead), _alive_z(in_norm.double(), dead),
                               _alive_z(out_norm.double(), dead)]).max(0).values
        writes_to = None
        if any(c.weight == head for c in L.consumers):
            wh = params[head].detach()
            per = wh.reshape(wh.shape[0], H, -1)
            raises = per.sum(2)
            # a NaN weight raises no logit (argmax took it for the largest); a neuron with only NaN ones: None, and
            # one whose outgoing weights are all 0 (read by no logit: argmax said class 0) likewise
            none = (raises.isnan() | (per == 0).all(2)).all(0)
            writes_to = torch.where(none, -1, raises.masked_fill(raises.isnan(), -math.inf).argmax(0))
        wl = params[L.weight].detach()
        reads_pixels = L.index == 1 and image and not L.conv and wl.dim() == 2 and wl.shape[1] == math.prod(shape)
        descs = describe_weights(wl, shape) if reads_pixels else None
        broken = nonfinite_neurons(v, L.index, acts[L.index])
        # the parameters by the network's own names (an nn.Sequential's '2.weight' or 'fc1.weight', not 'layers.1')
        layer_info[str(L.index)] = {"fan_in": L.fan_in, "activation": L.activation or "none", "width": H,
                                    "kind": L.kind, "skip": L.skip, "weight": L.weight, "bias": L.bias,
                                    "read_by": [c.weight for c in L.consumers]}
        for j in range(H):
            dj = d_pc[j]
            supports = [c for c in range(C) if counts[c] > 0 and dj[c] <= -thr[c] + 1e-12]
            desc = descs[j] if descs else ""
            if not desc and not bool(dead[j]) and float(sel[j]) >= SELECTIVE:  # the bar of groups()' "selective"
                c = int(top_class[j])
                desc = f"fires on {c}" + (f" ({names[c]})" if names[c] != str(c) else "")
            rows.append({
                "layer": L.index, "idx": j, "kind": L.kind, "fan_in": L.fan_in,
                "in_norm": float(in_norm[j]), "out_norm": float(out_norm[j]),
                "bias": None if bias is None else float(bias[j]),
                "act_mean": float(mean[j]), "act_std": float(std[j]), "act_max": float(amax[j]),
                "frac_active": float(frac[j]), "dead": int(bool(dead[j])),
                "top_class": None if bool(dead[j]) else int(top_class[j]),
                "selectivity": 0.0 if bool(dead[j]) else float(sel[j]),
                "class_means": cm[:, j].tolist(),
                "ablation_acc": float(abl.accuracy[j]) - base_acc,
                "ablation_loss": _loss_change(float(abl.loss[j]), base_loss),
                "ablation_per_class": dj.tolist(),
                "supports": supports,
                "support_strength": max(0.0, -float(torch.nan_to_num(dj, nan=0).min())),
                "writes_to": None if writes_to is None or writes_to[j] < 0 else int(writes_to[j]),
                "polysemanticity": 0.0 if bool(dead[j]) else float(poly[j]),
                "top_examples": order[:top_k, j].tolist(),
                "outlier": float(outlier[j]),
                "description": desc,
                "role": roles.get((L.index, j)) if roles else None,
                "nonfinite": broken[j],
            })
    meta = {
        "network": v.describe(), "family": v.family, "task": name, "split": split, "n": len(y),
        "accuracy": base_acc, "loss": base_loss, "per_class": base_pc.tolist(),
        "class_names": names,
        "input_shape": list(shape), "support_threshold": support_threshold,
        "reader": reader_status, "layer_info": layer_info, "seconds": time.perf_counter() - t0,
    }
    # NaN/inf in a tensor no hidden neuron's row covers (the output layer's bias, a norm layer's): named in meta,
    # only when there are some (an ordinary network's meta stays as it was)
    covered = {n for L in v.layers for n in (L.weight, L.bias, *(c.weight for c in L.consumers)) if n}
    loose = {n: k for n, t in params.items() if n not in covered and (k := _kinds(t.detach()))}
    if loose:
        meta["nonfinite_params"] = loose
    return NeuronDB(rows, meta)
