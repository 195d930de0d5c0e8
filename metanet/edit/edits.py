"""The edits: each copies the network (unless ``inplace``), changes its weights, re-verifies it against the
original on the task and returns :class:`~metanet.edit.report.EditResult` ``(model, report)``.

Architecture never changes: removed neurons and pruned connections are zeros, quantised weights are stored
back as float32 ("simulated quantisation"), so every edited network loads with :func:`metanet.load`.
"""

from __future__ import annotations

import functools
import math
import os
import re
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metanet._state import metanet_defaults
from metanet.edit.neurons import (
    clamp_neurons,
    parse_neuron_values,
    parse_neurons,
    remove_neurons,
    scale_neurons,
)
from metanet.edit.report import EditResult, finish
from metanet.edit.trigger import as_trigger
from metanet.errors import ArchError, ConfigError, GraphError, TaskError, is_flag, whole_number
from metanet.inspect.measure import activations, evaluate_masks
from metanet.inspect.netview import NetView, Region, as_model
from metanet.io import load_meta
from metanet.tasks import resolve
from metanet.tasks.resolve import task_input_shape, task_name
from metanet.verify import Network, _held, _storage, check_fits, copy_network, verify

__all__ = ["remove", "scale", "clamp", "prune", "precision", "FORMATS", "parse_precision", "quantize",
           "sparsity", "prepare", "any_network"]


def any_network(edit: Callable[..., EditResult]) -> Callable[..., EditResult]:
    """Let ``edit`` take its network in every form :func:`metanet.verify` takes (:func:`~metanet.inspect.netview.
    as_model`): a path is loaded (the file is never written) and a graph decoded, so the result is a new module,
    and ``inplace=True`` with either is a ConfigError; a Generated stands for its ``.model`` (``inplace`` edits
    ``g.model`` itself). The report's details then start with ``network``: where the edited network came from;
    a path's metadata is the report's ``source_meta`` (kept by ``result.save``)."""

    @functools.wraps(edit)
    def run(model: Any, *args: Any, inplace: bool = False, **kwargs: Any) -> EditResult:
        with metanet_defaults():  # under set_default_device('meta') the masks and the task's data were made there
            module, source = as_model(model, inplace=inplace)
            result = edit(module, *args, inplace=inplace, **kwargs)
        if source is not None:  # a module given as it is: the report unchanged
            result.report.details = {"network": source, **result.report.details}
        if isinstance(model, (str, bytes, os.PathLike)):  # a file's metadata, for result.save to keep
            result.report.source_meta = {**load_meta(model), "edited_from": source}
        return result

    return run


def prepare(model: nn.Module, task, trigger: Any, inplace: bool):
    """(task, trigger, original, edited, view of edited): checked, with the copies made.

    ``edited`` is always a copy, even ``inplace``: the edit and its measurements run on it in eval mode, and
    :func:`~metanet.edit.report.finish` copies its weights into the caller's model (``into=``) only once the
    edit succeeded. So a refused edit changes nothing (not even the train/eval mode), and a model edited in
    place while it is being trained keeps its mode (dropout is not switched off behind the caller's back).
    """
    task = resolve(task)
    NetView(model)  # first: a clear error for an unsupported module
    # a task given as any object with split and num_classes may have no name or input_shape (as generate takes it)
    shape, name = task_input_shape(task), task_name(task)
    check_fits(model, shape, task.num_classes, where=f"task {name!r}")
    trig = as_trigger(trigger, shape, task.num_classes)
    shared = _shared_memory(model) if inplace else None
    if shared:  # finish() writes the edited tensors back one at a time: the last write to shared memory would win
        raise ConfigError(f"inplace=True cannot write an edit into this network: {shared}, so the edited values "
                          "written back would overwrite each other; edit a copy instead (inplace=False, the default) "
                          "and use result.model")
    # copy_network: a view of a weight kept in a plain list ([w.t()]) stays on the copy's weight (deepcopy cut it
    # off: the edited copy ran on the old values)
    original = copy_network(model).eval()
    edited = copy_network(original)
    return task, trig, original, edited, NetView(edited)


def _shared_memory(model: nn.Module) -> str | None:
    """Which of ``model``'s tensors share memory (None if none do): two parameters on one storage (tied with
    ``nn.Parameter(other.weight)``, which the same-object check of NetView does not see) or one whose elements
    overlap (``expand``). Tensors on disjoint elements of one buffer are fine, even where their byte ranges
    interleave (column slices ``buf[:, :64]`` and ``buf[:, 64]``)."""
    spans: dict[torch.device, list[tuple[int, int, int, str, Tensor]]] = {}
    for i, (name, t) in enumerate(model.state_dict(keep_vars=True).items()):
        if not isinstance(t, Tensor) or t.layout != torch.strided or t.is_meta or not t.numel():
            continue
        if not t.is_contiguous() and not _distinct_offsets(t):
            return f"the elements of {name!r} overlap in memory (a tensor made by expand() or as_strided())"
        # addresses, not offsets into a storage: two torch.from_numpy() views of one array are two storages
        last = sum((n - 1) * s for n, s in zip(t.shape, t.stride()))  # strides are >= 0
        start = t.data_ptr()
        spans.setdefault(t.device, []).append((start, start + (last + 1) * t.element_size(), i, name, t))
    for group in spans.values():
        group.sort(key=lambda s: s[0])
        clusters: list[list[tuple[int, int, int, str, Tensor]]] = []
        end = -1
        for span in group:  # tensors whose byte ranges chain into one another
            if span[0] < end:
                clusters[-1].append(span)
            else:
                clusters.append([span])
            end = max(end, span[1])
        for cluster in clusters:
            found = _first_shared(sorted(cluster, key=lambda s: s[2])) if len(cluster) > 1 else None
            if found is not None:
                return f"{found[0]!r} and {found[1]!r} share memory (tied weights)"
    return None


def _first_shared(spans: list[tuple[int, int, int, str, Tensor]]) -> tuple[str, str] | None:
    """The first two of ``spans`` (start, stop, index, name, tensor) with an element in common, else None: their
    bytes marked in one array over the span they cover (each tensor's elements are distinct, see _distinct_offsets)."""
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    unit = math.gcd(*(s[4].element_size() for s in spans), *(s[0] - lo for s in spans))

    def cover(marks: Tensor, start: int, t: Tensor) -> Tensor:  # the marks of t's bytes, in units of `unit` bytes
        per = t.element_size() // unit
        return marks.as_strided((*t.shape, per), (*(s * per for s in t.stride()), 1), (start - lo) // unit)

    marks = torch.zeros((hi - lo) // unit, dtype=torch.bool)
    for k, (start, _, _, name, t) in enumerate(spans):
        mine = cover(marks, start, t)
        if bool(mine.any()):  # which earlier one: their bytes labelled in one more array (none overlap another); one
            # array per earlier tensor took 18 s for 200 column slices of a 256 MB buffer
            owner = torch.zeros(len(marks), dtype=torch.uint8 if k < 255 else torch.int32)
            for j, (o_start, _, _, _, o) in enumerate(spans[:k]):
                cover(owner, o_start, o).fill_(j + 1)
            return spans[int(cover(owner, start, t)[mine].min()) - 1][3], name
        mine.fill_(True)
    return None


def _distinct_offsets(t: Tensor) -> bool:
    """Whether every element of the strided tensor ``t`` has its own offset in its storage."""
    dims = sorted((stride, size) for size, stride in zip(t.shape, t.stride()) if size > 1)
    reach = 0  # the largest offset the smaller strides reach
    for stride, size in dims:
        if stride <= reach:
            break
        reach += (size - 1) * stride
    else:  # each stride steps past all the smaller ones reach (a transposed or sliced weight): found without
        return True  # listing the offsets, which took 5 s and 0.7 GB for a transposed 4096 x 4096 weight
    if dims[0][0] == 0:  # expand()
        return False
    off = torch.tensor(0)  # the element offsets, exactly (interleaved strides, e.g. as_strided())
    for stride, size in dims:
        off = off.unsqueeze(-1) + torch.arange(size) * stride
    return off.unique().numel() == off.numel()


def _sel_str(sel: dict[int, list[int]]) -> str:
    return ";".join(f"{l}:{','.join(map(str, js))}" for l, js in sel.items())


# ------------------------------------------------------------------------------------ neuron edits
@any_network
def remove(model: Network, neurons: Any, task, *, split: str = "test", trigger: Any = None,
           inplace: bool = False) -> EditResult:
    """Remove neurons (output forced to 0: incoming weights and bias zeroed, outgoing weights zeroed or the
    constant folded out; see :mod:`metanet.edit.neurons`).

    Args:
        model: a metanet MLP / CNN (channels) / supported ``nn.Sequential``; or, as :func:`metanet.verify` takes
            them, the path of a network saved with :func:`metanet.save` (only read: the edited copy is returned,
            the file is never written), :func:`metanet.generate`'s result (its ``.model``) or a
            :class:`~metanet.graph.NeuralGraph` (decoded with :func:`~metanet.graph.from_graph`). The report's
            ``details['network']`` then says which (the path; ``Generated.model``; the graph).
        neurons: ``"1:3,17;2:5"`` (first hidden layer = 1), ``(layer, idx)``, a list of pairs or ``{layer: [idx]}``.
        task: the task to verify on (a Task, a name, a sentence or ``(x, y)``: :func:`metanet.tasks.resolve`).
        split: which split of ``task`` the edit is verified on.
        trigger: a known backdoor trigger (zoo dict / JSON); adds the attack success rate to the report.
        inplace: edit ``model`` itself instead of a copy (a Generated: its ``.model``). A path or a graph holds no
            module of yours to change: ``inplace=True`` with one is a ConfigError (save or re-encode
            ``result.model`` instead).

    The report's details give ``removed``, how many neurons this edit removed; neurons of the selection that an
    earlier edit removed already (zero incoming weights and bias, and nothing left reading them) are left as
    they are and listed in ``already_removed``.

    Raises:
        ArchError: unknown layer or neuron, or it would remove every neuron of a layer (nothing is changed).
        ConfigError: ``inplace=True`` with a path or a graph, or with a network whose tensors share memory
            (two parameters on one storage, an ``expand``-ed weight).
        FileFormatError: a path that is no network file. GraphError: a malformed graph.
    """
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    sel = parse_neurons(neurons, v)
    already = remove_neurons(v, sel)
    # `removed` counts what this edit removed: a neuron removed by an earlier edit is named, not counted again
    details: dict[str, Any] = {"removed": sum(map(len, sel.values())) - len(already)}
    if already:
        details["already_removed"] = [f"{l}:{j}" for l, j in already]
    return finish("remove", {"neurons": _sel_str(sel)}, original, edited, task, split, trig, details,
                  into=model if inplace else None)


@any_network
def scale(model: Network, neurons: Any, factor: float, task, *, split: str = "test", trigger: Any = None,
          inplace: bool = False) -> EditResult:
    """Multiply the outputs of neurons by ``factor`` (exactly; see :mod:`metanet.edit.neurons`). ``model`` and the
    other arguments as in :func:`remove` (a path, a Generated or a NeuralGraph too).

    Raises:
        ArchError: as :func:`remove`; a factor that cannot be applied exactly; a factor of 0 that would silence every
            neuron of a layer (as removing them would: remove refuses it too).
    """
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    sel = parse_neurons(neurons, v)
    how = scale_neurons(v, sel, factor)
    return finish("scale", {"neurons": _sel_str(sel), "factor": float(factor)}, original, edited, task, split,
                  trig, {"via": how}, into=model if inplace else None)


@any_network
def clamp(model: Network, neurons: Any, task, value: float | None = None, *, split: str = "test",
          trigger: Any = None, inplace: bool = False, stats_split: str = "train") -> EditResult:
    """Fix neurons' outputs to a constant for every input.

    ``neurons`` may carry the values (``"1:3=0.5;2:2=0"`` or ``{(1, 3): 0.5, (2, 2): 0}``); otherwise ``value``
    applies to all, and with no value at all each neuron is clamped to its mean output on ``stats_split`` (mean
    ablation). ``model`` and the other arguments as in :func:`remove` (a path, a Generated or a NeuralGraph too).
    Unlike :func:`remove`, every neuron of a layer may be clamped (mean ablation of a whole layer; see
    :mod:`metanet.edit.neurons`).
    """
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    valued_dict = isinstance(neurons, dict) and neurons and all(isinstance(k, tuple) for k in neurons)
    if (isinstance(neurons, str) and "=" in neurons) or valued_dict:
        values = parse_neuron_values(neurons, v)
    else:
        values = {(l, j): value for l, js in parse_neurons(neurons, v).items() for j in js}
    if any(x is None for x in values.values()):
        x, _ = task.split(stats_split)
        if len(x) == 0:  # a mean over no examples is NaN: 'clamp value nan is not finite'
            raise TaskError(f"split {stats_split!r} of task {task_name(task)!r} has no examples to take the neurons' "
                            "mean outputs from; give another stats_split, or the value to clamp to")
        means = {l: a.mean(0) for l, a in activations(NetView(original), x).items()}
        # a NaN / inf mean was refused as if given: 'clamp value nan is not finite', for a value nobody gave
        odd = [f"{l}:{j} ({float(means[l][j]):g})" for (l, j), x_ in values.items()
               if x_ is None and not math.isfinite(float(means[l][j]))]
        values = {k: float(means[k[0]][k[1]]) if x_ is None else x_ for k, x_ in values.items()}
        if odd:
            raise ArchError(f"cannot clamp neuron(s) {', '.join(odd)} to their mean output on split {stats_split!r}: "
                            "it is not finite (NaN or inf outputs; metanet inspect names the weights that make "
                            "them); give the value to clamp to, e.g. '1:3=0'")
    clamp_neurons(v, values)
    # a numpy / 0-d torch value too; not rounded: round(x, 6) recorded a clamp to 1e-7 as one to 0 (a value a
    # sigmoid neuron cannot output, so the history could not be replayed)
    vals = {f"{l}:{j}": float(x) for (l, j), x in values.items()}
    return finish("clamp", {"neurons": vals}, original, edited, task, split, trig, into=model if inplace else None)


# ------------------------------------------------------------------------------------ pruning
def _regions(v: NetView, regions: Any) -> list[Region]:
    if regions is None:
        return list(v.regions)
    if isinstance(regions, str):
        # whole_number, not int(): str.isdigit() is true of a superscript '¹', which int() refuses (a raw ValueError)
        regions = [r if whole_number(r) is None else whole_number(r) for r in regions.split(",") if r.strip()]
    if whole_number(regions) is not None or isinstance(regions, bool):  # one index (a numpy / 0-d torch one too)
        regions = [regions]
    elif not isinstance(regions, Iterable) or getattr(regions, "ndim", 1) == 0:  # a float, a 0-d tensor: a raw
        # "not iterable" TypeError otherwise
        raise ArchError(f"regions must be weight layer indices (an index, a list of them or '0,1'), got {regions!r}; "
                        f"valid: weight layers 0..{len(v.regions) - 1}")
    out = [v.region(r) for r in regions]
    if not out:
        raise ArchError(f"no regions selected; valid: weight layers 0..{len(v.regions) - 1}")
    return out


def sparsity(model: Network, regions: Any = None) -> float:
    """Fraction of zero connections (weights, biases excluded) over ``regions`` (all weight layers) of ``model``
    (a module, a saved network's path, :func:`metanet.generate`'s result or a NeuralGraph)."""
    v = NetView(model)
    p = v.params()
    ws = [p[r.weight] for r in _regions(v, regions)]
    return float(sum(int((w == 0).sum()) for w in ws) / sum(w.numel() for w in ws))


def _magnitude(p: dict[str, Tensor], regs: list[Region], target: float, scope: str) -> None:
    ws = [p[r.weight] for r in regs]
    if scope == "layer":
        for w in ws:
            n = w.numel()
            k = min(n - 1, round(target * n)) - int((w == 0).sum())
            if k > 0:
                score = w.abs().flatten().masked_fill(w.flatten() == 0, math.inf)
                w[_at(w, score.topk(k, largest=False).indices)] = 0
        return
    n = sum(w.numel() for w in ws)
    k = round(target * n) - sum(int((w == 0).sum()) for w in ws)
    if k <= 0:
        return
    score = torch.cat([w.abs().flatten().masked_fill(w.flatten() == 0, math.inf) for w in ws])
    for i, w in enumerate(ws):  # keep the largest connection of each region whatever happens
        off = sum(x.numel() for x in ws[:i])
        score[off + int(w.abs().flatten().argmax())] = math.inf
    k = min(k, int(torch.isfinite(score).sum()))
    flat = torch.zeros(n, dtype=torch.bool)
    flat[score.topk(k, largest=False).indices] = True
    off = 0
    for w in ws:
        w.masked_fill_(flat[off : off + w.numel()].view(w.shape), 0)
        off += w.numel()


def _at(w: Tensor, flat: Tensor) -> tuple[Tensor, ...]:
    """The index of ``w`` at row-major positions ``flat`` (``w.flatten()[flat]``), for writing into ``w`` whatever
    its strides: ``w.view(-1)`` fails on a non-contiguous parameter (a transposed view set as a weight)."""
    return torch.unravel_index(flat, w.shape)


def _saliency(model: nn.Module, names: list[str], x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """Second-order estimate of the loss increase from zeroing each weight (Optimal Brain Damage, LeCun et al.
    1990, with the empirical Fisher as the diagonal Hessian): ``0.5 * E[g_i^2] * w^2``, per-example gradients
    via ``torch.func``. (Adding the first-order term ``-g*w`` ranked worse in measurements: the expansion
    does not hold for removing a large weight.)"""
    from torch.func import functional_call, grad, vmap

    from metanet.verify import _held_elsewhere

    if _held_elsewhere(model):
        # its forward may read a weight through a plain list, where functional_call does not swap it: that weight's
        # gradient came out 0, so all of it looked free to remove (a plain MLP's twin was pruned to 0.55 accuracy)
        return _saliency_in_place(model, names, x, y)
    params = {k: p.detach() for k, p in model.named_parameters()}
    sub = {k: params[k] for k in names}
    size = sum(t.numel() for t in sub.values())

    def loss_one(s, xi, yi):
        return F.cross_entropy(functional_call(model, {**params, **s}, (xi[None],)), yi[None])

    per = vmap(grad(loss_one), in_dims=(None, 0, 0))
    f = {k: torch.zeros_like(t) for k, t in sub.items()}
    bs = max(8, (1 << 24) // max(1, size))
    for i in range(0, len(x), bs):
        gi = per(sub, x[i : i + bs], y[i : i + bs])
        for k in names:
            f[k] += gi[k].pow(2).sum(0)
    n = max(1, len(x))
    return {k: 0.5 * (f[k] / n) * sub[k].pow(2) for k in names}


def _saliency_in_place(model: nn.Module, names: list[str], x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """:func:`_saliency` with each example's gradient taken on ``model``'s own parameters, one example at a time
    (slower, but a weight the forward reads from a plain list is the parameter itself)."""
    p = dict(model.named_parameters())
    ws = [p[k] for k in names]
    # a weight's view kept without autograd history ([w.t()] made under torch.no_grad(), [w.data]): the forward's
    # use of the weight through it gave no gradient, so all of it looked free to remove; its gradient is the view's,
    # put back on the weight through their common memory (each view element's place in the storage)
    mine = {_storage(w) for w in ws} - {0}
    views = list({id(t): t for t in _held(model) if t.is_leaf and _storage(t) in mine
                  and all(t is not w for w in ws)}.values())
    size = [t.untyped_storage().nbytes() // t.element_size() for t in views]  # the storage, in elements
    places = [torch.arange(n).as_strided(t.size(), t.stride(), t.storage_offset()).flatten()
              for t, n in zip(views, size)]
    flags = [w.requires_grad for w in (*ws, *views)]
    f = {k: torch.zeros_like(w.detach()) for k, w in zip(names, ws)}
    try:
        for w in (*ws, *views):  # a frozen network's weights too: the copy's flags are put back
            w.requires_grad_(True)
        with torch.enable_grad():
            for i in range(len(x)):
                loss = F.cross_entropy(model(x[i : i + 1]), y[i : i + 1])
                gs = list(torch.autograd.grad(loss, [*ws, *views], allow_unused=True))
                for t, n, at, g in zip(views, size, places, gs[len(ws):]):
                    if g is None:
                        continue
                    whole = g.new_zeros(n).index_add_(0, at, g.flatten())
                    for j, w in enumerate(ws):
                        if _storage(w) == _storage(t) and w.dtype == t.dtype:
                            on_w = whole.as_strided(w.size(), w.stride(), w.storage_offset())
                            gs[j] = on_w if gs[j] is None else gs[j] + on_w
                for k, g in zip(names, gs):
                    if g is not None:
                        f[k] += g.pow(2)
    finally:
        for w, flag in zip((*ws, *views), flags):
            w.requires_grad_(flag)
    n = max(1, len(x))
    return {k: 0.5 * (f[k] / n) * w.detach().pow(2) for k, w in zip(names, ws)}


@torch.no_grad()
def _accuracy(v: NetView, x: Tensor, y: Tensor, c: int) -> float:
    return float(evaluate_masks(v, x, y, c, {}).accuracy[0])


def _necessity(model: nn.Module, v: NetView, regs: list[Region], target: float, x: Tensor, y: Tensor, c: int,
               tolerance: float, max_evals: int = 400) -> dict[str, Any]:
    """Prune in order of estimated necessity, keeping only removals that measurably cost no accuracy."""
    p = v.params()
    names = [r.weight for r in regs]
    ws = [p[k] for k in names]
    sizes = [w.numel() for w in ws]
    n = sum(sizes)
    goal = round(target * n)
    frozen = torch.zeros(n, dtype=torch.bool)
    base = _accuracy(v, x, y, c)
    evals, accepted, rejected = 0, 0, 0

    def flat_w() -> Tensor:
        return torch.cat([w.detach().flatten() for w in ws])

    def set_zero(idx: Tensor, values: Tensor | None = None) -> None:
        with torch.no_grad():
            off = 0
            for w, s in zip(ws, sizes):
                m = (idx >= off) & (idx < off + s)
                w[_at(w, idx[m] - off)] = 0 if values is None else values[m]
                off += s

    def scores() -> Tensor:
        sal = _saliency(model, names, x, y)
        s = torch.cat([sal[k].flatten() for k in names])
        w = flat_w()
        s[w == 0] = math.inf
        # keep the largest connection of each region
        off = 0
        for ww, sz in zip(ws, sizes):
            s[off + int(ww.detach().abs().flatten().argmax())] = math.inf
            off += sz
        return s

    def attempt(idx: Tensor, min_block: int) -> int:
        nonlocal evals, accepted, rejected
        if evals >= max_evals:  # a bisection's pending halves ran over the budget (402 of 400); left unmeasured
            return 0
        old = flat_w()[idx]
        set_zero(idx)
        evals += 1
        if _accuracy(v, x, y, c) >= base - tolerance - 1e-12:
            accepted += len(idx)
            return len(idx)
        set_zero(idx, old)
        if len(idx) <= min_block or evals >= max_evals:
            frozen[idx] = True
            rejected += len(idx)
            return 0
        half = len(idx) // 2
        done = attempt(idx[:half], min_block)
        return done + attempt(idx[half:], min_block)

    zeros = int((flat_w() == 0).sum())
    while zeros < goal and evals < max_evals:
        s = scores()
        s[frozen] = math.inf
        alive = int(torch.isfinite(s).sum())
        if alive == 0:
            break
        step = min(goal - zeros, max(1, math.ceil(0.25 * alive)), alive)
        idx = s.topk(step, largest=False).indices
        attempt(idx, max(1, step // 32))
        zeros = int((flat_w() == 0).sum())
    forced = 0
    while zeros < goal:  # everything left was measured necessary: take the least necessary anyway
        s = scores()
        alive = int(torch.isfinite(s).sum())
        if alive == 0:
            break
        step = min(goal - zeros, max(1, math.ceil(0.2 * (goal - zeros)), math.ceil(0.02 * n)), alive)
        set_zero(s.topk(step, largest=False).indices)
        forced += step
        zeros = int((flat_w() == 0).sum())
    return {"evaluations": evals, "accepted_free": accepted, "measured_necessary": rejected, "forced": forced,
            "calibration_accuracy": [base, _accuracy(v, x, y, c)]}


@any_network
def prune(
    model: Network,
    sparsity: float,
    task,
    *,
    method: str = "magnitude",
    scope: str | None = None,
    regions: Any = None,
    tolerance: float = 0.0,
    calib_split: str = "val",
    max_examples: int = 2000,
    split: str = "test",
    trigger: Any = None,
    inplace: bool = False,
) -> EditResult:
    """Prune connections (weights; biases stay) to a target ``sparsity`` (fraction of zero weights).

    Methods:
        ``magnitude``: zero the smallest weights, per layer (``scope="layer"``, default) or over all selected
        layers at once (``scope="global"``).
        ``necessity``: measured necessity, over all selected layers. Connections are ranked by an estimate of
        the loss change their removal causes (OBD with the empirical Fisher, recomputed after each round), then
        removed in blocks; a block is kept only if the accuracy on ``calib_split`` (at most ``max_examples``)
        stays within ``tolerance`` of the original, otherwise it is bisected and the connections whose removal
        costs accuracy are marked necessary. At most 400 blocks are measured (the report's ``evaluations``). If
        the target needs more, the least necessary of the rest go last, unmeasured (counted as ``forced``).

    Weights that are already zero count towards the target; a target at or below the current sparsity
    changes nothing (with ``scope="layer"``, each layer's own: a layer already sparser is left as it is, the
    others are still pruned to the target). Every layer keeps at least its largest connection, so the sparsity
    reached can fall short of a target near 1 (the report's ``sparsity`` and ``per_region`` say what it is).
    ``model``, ``inplace`` and the other shared arguments as in :func:`remove` (a path, a Generated or a
    NeuralGraph too).

    Raises:
        ArchError: sparsity outside [0, 1), an unknown method/scope or region, ``max_examples`` below 1.
        TaskError: ``necessity`` with no examples in ``calib_split``.
    """
    try:  # not a bool: False was sparsity 0 (nothing pruned), True tolerance 1 (any accuracy drop accepted)
        s = math.nan if is_flag(sparsity) else float(sparsity)
    except (TypeError, ValueError):
        s = math.nan
    if not 0 <= s < 1:
        raise ArchError(f"sparsity {sparsity!r} is not valid: a fraction of connections to remove in [0, 1) "
                        "(1 would disconnect the network)")
    try:
        tol = math.nan if is_flag(tolerance) else float(tolerance)
    except (TypeError, ValueError):
        tol = math.nan
    if not 0 <= tol <= 1:  # a negative one would refuse every removal, NaN accept every one
        raise ArchError(f"tolerance {tolerance!r} is not valid: an accuracy drop in [0, 1] (0.01 = one point)")
    if not isinstance(method, str) or method not in ("magnitude", "necessity"):  # a numpy array: ambiguous `in`
        raise ArchError(f"unknown pruning method {method!r}; valid: magnitude, necessity")
    if isinstance(max_examples, bool) or whole_number(max_examples) is None or whole_number(max_examples) < 1:
        # 0 calibrated on no examples (accuracy 0 >= 0: every removal "cost nothing"); < 0 sliced silently
        raise ArchError(f"max_examples {max_examples!r} is not valid: a whole number >= 1 (calibration examples)")
    if scope is None or (isinstance(scope, str) and not scope):  # not `scope or`: a numpy array's truth is ambiguous
        scope = "layer" if method == "magnitude" else "global"
    if not isinstance(scope, str) or scope not in ("layer", "global") or (method == "necessity" and scope != "global"):
        raise ArchError(f"pruning scope {scope!r} is not valid for {method}; valid: "
                        + ("layer, global" if method == "magnitude" else "global"))
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    regs = _regions(v, regions)
    before = sparsity_of(v, regs)
    details: dict[str, Any] = {}
    if method == "magnitude":
        with torch.no_grad():
            _magnitude(v.params(), regs, s, scope)
    else:
        x, y = task.split(calib_split)
        if len(y) == 0:  # no calibration data would accept every removal as free
            raise TaskError(f"split {calib_split!r} of task {task_name(task)!r} has no examples to calibrate "
                            "necessity pruning on; give another calib_split, or use method='magnitude'")
        x = x.to(next(edited.parameters()).dtype)  # the saliency runs the network itself (a float64 one, too)
        n = whole_number(max_examples)
        details = _necessity(edited, v, regs, s, x[:n], y[:n], task.num_classes, tol)
    p = v.params()
    details = {
        "sparsity_before": before,
        "sparsity": sparsity_of(v, regs),
        "per_region": {str(r.index): float((p[r.weight] == 0).double().mean()) for r in regs},
        **details,
    }
    params = {"sparsity": s, "method": method, "scope": scope,
              "regions": None if regions is None else [r.index for r in regs]}
    if method == "necessity":
        params.update(tolerance=tol, calib_split=calib_split)
    return finish("prune", params, original, edited, task, split, trig, details, into=model if inplace else None)


def sparsity_of(v: NetView, regs: list[Region]) -> float:
    p = v.params()
    return float(sum(int((p[r.weight] == 0).sum()) for r in regs) / sum(p[r.weight].numel() for r in regs))


# ------------------------------------------------------------------------------------ precision
#: format -> bits per weight
FORMATS = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int4": 4, "int2": 2}
#: bits per weight of a network's own dtype (float32 otherwise)
_NATIVE_BITS = {torch.float64: 64, torch.float16: 16, torch.bfloat16: 16}
#: the float formats' dtypes (each rounds a weight to it and back)
_FLOAT_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_ALIASES = {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16", "f32": "fp32", "f16": "fp16"}
PRECISION_GRAMMAR = "REGION=FORMAT joined by ',' (REGION: a weight layer, a range A-B or *), e.g. '0=int8,1=fp16,2=fp32'"


def quantize(w: Tensor, fmt: str, *, what: str = "the weights") -> Tensor:
    """``w`` rounded to ``fmt`` and back to its dtype (simulated quantisation). Integer formats are symmetric,
    one scale per output row/channel (``max|w| / (2^(bits-1) - 1)``).

    Raises:
        ArchError: an unknown format, or a float format whose range a finite value of ``w`` exceeds (rounded to it,
            the value would become inf); the message lists the formats that hold it.
        GraphError: NaN or infinite values in ``w`` (``what`` names them) for an integer format, which has no such
            values: the row's scale was NaN/inf, so one inf weight made its whole row NaN and one NaN zeroed the rest.
    """
    if not isinstance(fmt, str) or fmt not in FORMATS:  # else a raw KeyError (or "unhashable type")
        raise ArchError(f"unknown precision format {fmt!r:.80}; valid: {', '.join(FORMATS)}")
    if fmt in _FLOAT_DTYPES:  # fp32 rounds a float64 network's weights too (they were left, counted as 32-bit)
        q = w.to(_FLOAT_DTYPES[fmt]).to(w.dtype, copy=True)
        over = torch.isfinite(w) & ~torch.isfinite(q)
        if bool(over.any()):  # a finite weight over 65504 became inf in fp16, silently: every output NaN or inf
            _overflow(w, over, fmt, what)
        return q
    bad = int((~torch.isfinite(w)).sum())
    if bad:
        raise GraphError(f"cannot quantise {what} to {fmt}: they hold {bad} NaN or infinite value"
                         f"{'s' if bad != 1 else ''}, which an integer format cannot represent; give a network whose "
                         "weights are all finite, or a float format")
    bits = FORMATS[fmt]
    qmax = 2 ** (bits - 1) - 1
    # the scale in at least float32 (as integer inference keeps it): in float16 a row of small weights had a scale
    # that underflowed to 0 (the row became zeros), and a clamp at 1e-30 zeroed rows of subnormal float32 weights
    rows = w.reshape(w.shape[0], -1)
    rows = rows.float() if rows.element_size() < 4 else rows
    sc = rows.abs().amax(1, keepdim=True) / qmax
    safe = torch.where(sc > 0, sc, torch.ones_like(sc))  # an all-zero row stays zeros (no 0/0)
    q = (rows / safe).round().clamp(-qmax, qmax) * safe
    return q.reshape(w.shape).to(w.dtype)


def _overflow(w: Tensor, over: Tensor, fmt: str, what: str) -> None:
    """ArchError for the ``over`` values of ``w``: finite, they become inf rounded to the float format ``fmt``."""
    n, big = int(over.sum()), float(w[over].abs().max())
    top = torch.tensor(big, dtype=w.dtype)
    # the integer formats only without NaN / inf among them (quantize refuses those): they were listed anyway
    ints = bool(torch.isfinite(w).all())
    fits = [f for f in FORMATS if (ints if f not in _FLOAT_DTYPES else
                                   bool(top.to(_FLOAT_DTYPES[f]).to(w.dtype).isfinite()))]
    limit = torch.finfo(_FLOAT_DTYPES[fmt]).max
    top_w = torch.finfo(w.dtype).max
    # a format as wide as the network's dtype overflows only by rounding up past its largest (bf16 of float16 65504)
    held = (f" ({fmt} holds sizes up to {limit:g})" if limit < top_w else
            f" ({fmt} rounds it past {top_w:g}, the largest the network's {str(w.dtype).removeprefix('torch.')} holds)")
    raise ArchError(f"cannot round {what} to {fmt}: {n} finite value{'s' if n != 1 else ''} (the largest {big:g} in "
                    f"size) would become inf{held}; valid formats for them: "
                    f"{', '.join(fits) or 'none (their NaN or infinite values rule out the integer formats)'}")


def parse_precision(plan: Any, v: NetView) -> dict[int, str]:
    """``{region: format}`` from ``"0=int8,1=fp16"`` (see :data:`PRECISION_GRAMMAR`) or a dict; regions
    not named stay as they are (in the network's dtype)."""
    items: list[tuple[Any, Any]]
    if isinstance(plan, str):
        items = []
        for part in re.split(r"[,;\s]+", plan.strip()):
            if not part:
                continue
            if "=" not in part:
                raise ArchError(f"malformed precision {part!r}; expected {PRECISION_GRAMMAR}")
            items.append(tuple(s.strip() for s in part.split("=", 1)))
    elif isinstance(plan, dict):
        items = list(plan.items())
    else:
        raise ArchError(f"cannot read a precision plan from {plan!r}; expected {PRECISION_GRAMMAR}")
    out: dict[int, str] = {}
    for key, fmt in items:
        f = _ALIASES.get(str(fmt).lower(), str(fmt).lower())
        if f not in FORMATS:
            raise ArchError(f"unknown precision {fmt!r} for region {key}; valid: {', '.join(FORMATS)}")
        k = str(key)
        if k == "*":
            idx: Iterable[int] = range(len(v.regions))
        elif re.fullmatch(r"\d+\s*-\s*\d+", k):
            a, b = (int(t) for t in k.split("-"))
            if a > b:  # range(a, b + 1) would be empty: the regions would silently stay fp32
                raise ArchError(f"region range {k!r} runs backwards; write it as {b}-{a}")
            idx = range(a, b + 1)
        else:
            idx = [k]
        for i in idx:
            out[v.region(i).index] = f
    if not out:
        raise ArchError(f"empty precision plan; expected {PRECISION_GRAMMAR}")
    return out


@any_network
def precision(model: Network, plan: Any, task, *, split: str = "test", trigger: Any = None,
              inplace: bool = False) -> EditResult:
    """Per-region precision: quantise each weight layer ("region") to its format (simulated: values rounded
    to the format, stored in the network's dtype: float32 for metanet's networks). Integer formats quantise the
    weights per output channel and keep the bias as it is (the 32-bit accumulator of integer inference); fp16/bf16
    round the bias too.

    The report's details give, per region, the accuracy cost of quantising that region alone (one vectorised
    pass over all single-region variants) and the weight memory at the chosen formats: ``weight_bytes`` (a
    format wider than the network's dtype, e.g. fp32 on a float16 network, adds nothing), ``weight_bytes_fp32``,
    ``weight_bytes_before`` (in the network's dtype) and ``compression`` (``weight_bytes_before / weight_bytes``).
    Bytes are counted from the exact bits (weights times bits per weight) rounded up to whole bytes per region,
    as each region is stored on its own (31 int4 weights take 16 bytes); biases and the integer formats'
    per-row scales are not counted. ``model``, ``inplace`` and the other shared arguments as in :func:`remove`
    (a path, a Generated or a NeuralGraph too).

    Raises:
        ArchError: a region that does not exist, an unknown format (the message lists the valid ones), or a float
            format too narrow for a region's finite weights or bias (fp16 holds sizes up to 65504: larger ones would
            become inf; nothing is changed).
        GraphError: a region given an integer format holds NaN or infinite weights.
    """
    task, trig, original, edited, v = prepare(model, task, trigger, inplace)
    fmts = parse_precision(plan, v)

    def apply(m: nn.Module, regions: dict[int, str]) -> None:
        mv = NetView(m) if m is not edited else v
        p = mv.params()
        with torch.no_grad():
            for i, f in regions.items():
                r = mv.region(i)
                p[r.weight].copy_(quantize(p[r.weight], f, what=f"the weights of region {i} ({r.weight})"))
                if r.bias and f in ("fp16", "bf16"):
                    p[r.bias].copy_(quantize(p[r.bias], f, what=f"the bias of region {i} ({r.bias})"))

    singles = []
    for i, f in fmts.items():
        m = copy_network(original)
        apply(m, {i: f})
        singles.append(m)
    reports = verify([original, *singles], task, split)
    apply(edited, fmts)
    p = v.params()
    # bits per weight as the network stores them: a float16 network "quantised" to fp16 (or fp32) is not smaller,
    # and a float64 one is 64 bits before (compression was counted from 32 bits whatever the dtype)
    native = {r.index: _NATIVE_BITS.get(p[r.weight].dtype, 32) for r in v.regions}

    def nbytes(bits: Callable[[Any], int]) -> int:
        # exact bits, rounded up to whole bytes per region (each is stored on its own): `total_bits // 8`
        # undercounted an int4/int2 region with an odd number of weights
        return sum(-(-p[r.weight].numel() * bits(r) // 8) for r in v.regions)

    after_b = nbytes(lambda r: min(FORMATS[fmts[r.index]], native[r.index]) if r.index in fmts else native[r.index])
    before_b = nbytes(lambda r: native[r.index])
    details = {
        "regions": {str(i): {"format": f, "accuracy_alone": rep.accuracy, "cost_alone": reports[0].accuracy - rep.accuracy}
                    for (i, f), rep in zip(fmts.items(), reports[1:])},
        "weight_bytes": after_b,
        "weight_bytes_fp32": nbytes(lambda r: 32),
        "weight_bytes_before": before_b,
        "compression": before_b / after_b if after_b else 1.0,  # the ratio of the two byte counts shown
    }
    plan_s = ",".join(f"{i}={f}" for i, f in fmts.items())
    return finish("precision", {"plan": plan_s}, original, edited, task, split, trig, details,
                  into=model if inplace else None)
