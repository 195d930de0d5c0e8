"""Backdoor triggers for edits: reading them (zoo format), stamping them, and the attack success rate.

A trigger is the zoo's dict (:mod:`metanet.zoo.backdoor`): ``kind`` (square / checker / random), ``size``,
``location`` ``[row, col]`` of its top-left pixel, ``pattern`` (size x size of 0/1), ``target``. Also
accepted: ``pos`` for ``location``; no ``pattern`` for a ``square`` (all ones) or ``checker`` kind; the zoo's
``backdoor`` column as a whole (extra keys such as ``asr``, ``poison_rate`` are ignored, a nested ``trigger``
dict is merged). A trigger reconstructed without knowing the real one (:mod:`metanet.edit.repair`) is
``{"kind": "reconstructed", "mask": ..., "pattern": ..., "target": t}``: inputs become
``(1 - mask) * x + mask * pattern``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from metanet._state import kept_modes
from metanet.errors import ArchError, TaskError, whole_number
from metanet.tasks import resolve
from metanet.tasks.resolve import task_input_shape, task_name
from metanet.verify import check_fits, check_weights, predicted

__all__ = ["as_trigger", "apply", "triggered_set", "attack_success_rate", "summary", "TRIGGER_FORMAT"]

#: the largest trigger side taken without an image shape to check it against (a patch bigger than a 4K image)
MAX_TRIGGER_SIZE = 4096

TRIGGER_FORMAT = ('{"size": S, "location": [ROW, COL], "pattern": SxS 0/1 (optional for kind square/checker), '
                  '"target": CLASS}')


def _whole(v: Any) -> int:
    """``v`` as an int (:func:`metanet.errors.whole_number`), else ValueError for the caller's message."""
    i = whole_number(v)
    if i is None:
        raise ValueError(v)
    return i


def _tensor(v: Any, what: str) -> Tensor:
    try:
        return torch.as_tensor(v, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise TaskError(f"{what} is not numeric (a nested list or tensor of numbers): {str(v)[:60]!r}") from None


def as_trigger(trigger: Any, input_shape: Sequence[int] | None = None, num_classes: int | None = None) -> dict | None:
    """A checked trigger dict from a dict, JSON text or a JSON file path (None stays None).

    Raises:
        TaskError: malformed, or it does not fit ``input_shape`` / ``num_classes`` (the message says what fits).
    """
    if trigger is None:
        return None
    if isinstance(trigger, (str, Path)):
        text = str(trigger)
        if not text.lstrip().startswith("{"):
            p = Path(text)
            if not p.is_file():
                try:  # JSON, but not an object ('[1, 2]', '3'): say so rather than "neither JSON nor a file"
                    json.loads(text)
                except (ValueError, RecursionError):
                    raise TaskError(f"trigger {text!r} is neither JSON nor a file; expected {TRIGGER_FORMAT}") from None
                raise TaskError(f"a trigger must be a JSON object, got {text[:60]!r}; expected {TRIGGER_FORMAT}")
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise TaskError(f"trigger file {text!r} is not text (not UTF-8); expected a JSON file holding "
                                f"{TRIGGER_FORMAT}") from None
        try:
            trigger = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise TaskError(f"trigger is not valid JSON ({e}); expected {TRIGGER_FORMAT}") from None
    if not isinstance(trigger, dict):
        raise TaskError(f"a trigger must be a JSON object, got {type(trigger).__name__}; expected {TRIGGER_FORMAT}")
    d = dict(trigger)
    if isinstance(d.get("trigger"), dict):
        d = {**{k: v for k, v in d.items() if k != "trigger"}, **d["trigger"]}
    if "target" not in d:
        raise TaskError(f"trigger has no 'target' class; expected {TRIGGER_FORMAT}")
    try:
        d["target"] = _whole(d["target"])
    except ValueError:
        raise TaskError(f"trigger target {d['target']!r} is not a class index") from None
    if d["target"] < 0:  # never a class index (Python would read -1 as the last class)
        raise TaskError(f"trigger target {d['target']} is not a class index (0, 1, ...)")
    if num_classes is not None and not 0 <= d["target"] < num_classes:
        raise TaskError(f"trigger target {d['target']} is not a class of the task (0..{num_classes - 1})")
    if d.get("kind") == "reconstructed":
        for k in ("mask", "pattern"):
            if k not in d:
                raise TaskError(f"a reconstructed trigger needs {k!r}")
            d[k] = _tensor(d[k], f"reconstructed trigger {k!r}")
        m, p = d["mask"], d["pattern"]
        if not bool(torch.isfinite(p).all()):
            raise TaskError("reconstructed trigger pattern has NaN or infinite values")
        if not bool(((m >= 0) & (m <= 1)).all()):
            raise TaskError("reconstructed trigger mask values must lie in [0, 1] (inputs become "
                            "(1 - mask) * x + mask * pattern); NaN is not valid")
        full = tuple(input_shape) if input_shape is not None else tuple(p.shape)
        try:
            fits = torch.broadcast_shapes(tuple(m.shape), full) == full
        except RuntimeError:
            fits = False
        if not fits:
            raise TaskError(f"reconstructed trigger mask has shape {tuple(m.shape)}; it must be the inputs' shape "
                            f"{full} or broadcast to it (e.g. one channel shared by all)")
        if input_shape is not None and tuple(d["pattern"].shape) != tuple(input_shape):
            raise TaskError(f"reconstructed trigger pattern has shape {tuple(d['pattern'].shape)}, the task's inputs "
                            f"{tuple(input_shape)}")
        return d
    if "location" not in d and "pos" in d:
        d["location"] = d.pop("pos")
    for k in ("size", "location"):
        if k not in d:
            raise TaskError(f"trigger has no {k!r}; expected {TRIGGER_FORMAT}")
    try:
        s = _whole(d["size"])
        r, c = (_whole(v) for v in d["location"])
    except (TypeError, ValueError):
        raise TaskError(f"trigger size {d['size']!r} / location {d['location']!r} malformed; expected {TRIGGER_FORMAT}") from None
    if s < 1:
        raise TaskError(f"trigger size {s} must be >= 1")
    if input_shape is None and s > MAX_TRIGGER_SIZE:  # no image to check it against: size**2 pattern values (2**70
        # was a raw OverflowError, 10**5 ten billion values)
        raise TaskError(f"trigger size {s} is larger than any patch trigger (valid: 1..{MAX_TRIGGER_SIZE} pixels)")
    # before a default pattern is built: a size far beyond the image (a typo) would build size**2 values first
    if input_shape is not None:
        if len(input_shape) != 3:
            raise TaskError(f"a patch trigger needs image inputs (C, H, W); the task's inputs are {tuple(input_shape)}")
        _, h, w = input_shape
        if s > h or s > w:  # "valid locations: rows 0..-1" would name none
            raise TaskError(f"trigger of size {s} is larger than the task's {h}x{w} images; valid sizes: 1..{min(h, w)}")
        if not (0 <= r and 0 <= c and r + s <= h and c + s <= w):
            raise TaskError(f"trigger of size {s} at location [{r}, {c}] does not fit {h}x{w} images; valid "
                            f"locations: rows 0..{h - s}, cols 0..{w - s}")
    if "pattern" not in d or d["pattern"] is None:
        kind = d.get("kind", "square")
        if kind == "square":
            d["pattern"] = [[1] * s for _ in range(s)]
        elif kind == "checker":
            d["pattern"] = [[(i + j + 1) % 2 for j in range(s)] for i in range(s)]
        else:
            # a mistyped kind ('squar') was only told to add a pattern: name the kinds that need none
            raise TaskError(f"trigger of kind {kind!r} needs its 'pattern' (size x size of 0/1); the kinds with a "
                            "default pattern are square and checker")
    try:
        pat = torch.as_tensor(d["pattern"], dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise TaskError(f"trigger pattern is not a size x size ({s} x {s}) array of 0/1: {str(d['pattern'])[:60]!r}") from None
    if tuple(pat.shape) != (s, s):
        raise TaskError(f"trigger pattern has shape {tuple(pat.shape)}, expected ({s}, {s}) for size {s}")
    if not bool(((pat >= 0) & (pat <= 1)).all()):
        raise TaskError("trigger pattern values must lie in [0, 1] (pixel values, like the task's inputs)")
    d.update(size=s, location=[r, c], pattern=pat.tolist())
    return d


def _fitted(x: Tensor, trigger: Any) -> dict:
    """``trigger`` checked against the examples ``x`` (N, *input shape) it is stamped on (:func:`as_trigger`)."""
    kind = trigger.get("kind") if isinstance(trigger, dict) else None
    # a patch needs (C, H, W) images (a single image (C, H, W) is stamped too, as the zoo's apply_trigger does)
    shape = tuple(x.shape[1:]) if kind == "reconstructed" or x.dim() < 3 else tuple(x.shape[-3:])
    return as_trigger(trigger, shape)


def apply(x: Tensor, trigger: dict) -> Tensor:
    """``x`` (floating point, values in [0, 1], ``(N, *input shape)``) with the trigger on every example (a new
    tensor). ``trigger``: anything :func:`as_trigger` reads (a zoo dict, JSON text or file).

    Raises:
        TaskError: ``x`` is not a floating-point tensor (a uint8 image 0..255 got a trigger of value 1 stamped on it,
            invisible; a numpy array was a raw TypeError); a trigger that is malformed or does not fit ``x`` (a
            patch outside the image was a raw RuntimeError, a missing key a KeyError).
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        what = f"a {x.dtype} tensor" if isinstance(x, Tensor) else f"a {type(x).__name__}"
        raise TaskError(f"a trigger is stamped on floating-point images in [0, 1], got {what}; convert uint8 images "
                        "0..255 with torch.as_tensor(x).float() / 255")
    trigger = _fitted(x, trigger)
    if trigger.get("kind") == "reconstructed":
        m, p = trigger["mask"].to(x.dtype), trigger["pattern"].to(x.dtype)
        return (1 - m) * x + m * p
    from metanet.zoo.backdoor import apply_trigger

    return apply_trigger(x, trigger)


def triggered_set(x: Tensor, y: Tensor, trigger: dict) -> Tensor:
    """Triggered copies of the examples whose class is not the target (the attack success test set)."""
    trigger = _fitted(x, trigger) if isinstance(x, Tensor) else trigger
    return apply(x[y != trigger["target"]], trigger)


@torch.no_grad()
def attack_success_rate(
    model: nn.Module | Sequence[nn.Module], task, trigger: Any, split: str = "test"
) -> float | list[float]:
    """Fraction of ``split``'s non-target examples that the network classifies as the target once stamped.

    ``model``: a network (a module, a saved network's path, :func:`metanet.generate`'s result or a NeuralGraph)
    or a list of them (then one rate per network).

    Raises:
        ArchError: no network (None, a tensor, an nn.ModuleList, an empty list...), or one that does not fit the
            task's inputs or classes, or cannot run (meta device, TorchScript).
        TaskError: no trigger, or one that is malformed or does not fit the task.
    """
    task = resolve(task)
    # a task-like object (split, num_classes) may have no name or input_shape
    shape, name = task_input_shape(task), task_name(task)
    trig = as_trigger(trigger, shape, task.num_classes)
    if trig is None:  # as_trigger keeps None (no trigger) as None: a raw "not subscriptable" TypeError below
        raise TaskError(f"attack_success_rate needs a trigger, got None; expected {TRIGGER_FORMAT}")
    x, y = task.split(split)
    xt = triggered_set(x, y, trig)
    from metanet.inspect.netview import as_model  # here: the inspect package imports metanet.edit's neighbours

    # one network in any form verify() takes (a path was iterated character by character), or a list of them
    one = as_model(model)[0]
    single = isinstance(one, nn.Module)
    if not single and not isinstance(model, (list, tuple)):  # None, a number, a tensor: iterated, raw errors
        raise ArchError(f"attack_success_rate needs a network or a list of them, got {_a(model)}; give an "
                        "nn.Module, the path of a network saved with metanet.save, metanet.generate's result or a "
                        "NeuralGraph")
    models = [one] if single else [as_model(m)[0] for m in model]
    if not models:  # an empty list gave [] back: no rate at all, silently (verify() refuses it too)
        raise ArchError("attack_success_rate got an empty list of networks; give a network or a list of one or more "
                        "(an nn.Module, the path of a network saved with metanet.save, metanet.generate's result or "
                        "a NeuralGraph)")
    out = []
    for k, m in enumerate(models):
        if not isinstance(m, nn.Module) or isinstance(m, (nn.ModuleList, nn.ModuleDict)):
            where = "" if single else f" (item {k} of the list)"
            raise ArchError(f"attack_success_rate needs a network or a list of them, got {_a(m)}{where}; give"
                            " an nn.Module (not a container of them), the path of a network saved with metanet.save, "
                            "metanet.generate's result or a NeuralGraph")
        check_weights(m)  # ArchError for meta-device tensors or a TorchScript module
        # as verify() does: a network not taking the task's inputs / classes was a raw RuntimeError from the matmul
        check_fits(m, shape, task.num_classes, where=f"task {name!r}")
        # as verify() runs a network: in eval mode (no dropout: the rate is not a random draw), on inputs in its
        # dtype (a float64 / float16 network), and the caller's modes put back
        p = next(m.parameters(), None)
        xm = xt.to(p.dtype) if p is not None and p.is_floating_point() and xt.is_floating_point() else xt
        with kept_modes(m, eval=True):
            # a NaN/inf row hits no target (argmax sent it to class 0), as verify counts it wrong
            pred = (torch.cat([predicted(m(xm[i : i + 4096])) for i in range(0, len(xm), 4096)]) if len(xm)
                    else torch.zeros(0))
        out.append(float((pred == trig["target"]).double().mean()) if len(xt) else float("nan"))
    return out[0] if single else out


def _a(x: object) -> str:
    """``x``'s type for a message: "None", "a str", "an int"."""
    name = type(x).__name__
    return "None" if x is None else f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


def summary(trigger: dict | None) -> dict | None:
    """A JSON-able description of a trigger (a reconstructed one: target, mask size and bounding box)."""
    if trigger is None:
        return None
    if trigger.get("kind") != "reconstructed":
        return {k: trigger[k] for k in ("kind", "size", "location", "pattern", "target") if k in trigger}
    m = trigger["mask"].amax(0) if trigger["mask"].dim() == 3 else trigger["mask"]
    nz = torch.nonzero(m > 0.5)
    box = [nz.min(0).values.tolist(), nz.max(0).values.tolist()] if len(nz) else None
    return {"kind": "reconstructed", "target": trigger["target"], "mask_l1": float(trigger["mask"].sum()),
            "box": box, **{k: trigger[k] for k in ("anomaly_index",) if k in trigger}}
