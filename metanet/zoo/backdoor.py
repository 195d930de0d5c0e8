"""Backdoor triggers: a small patch stamped on images, and what a poisoned run learns from it.

A trigger is the plain dict a recipe samples (:meth:`metanet.zoo.Recipe.sample_run`): ``kind`` (square, checker
or random), ``size`` (side in pixels), ``location`` ([row, col] of its top-left pixel), ``placement`` (corner or
random: how the recipe chose that place), ``pattern`` (size x size of 0/1: the patch's pixel values, on every
channel), ``target`` (the class it should force) and ``poison_rate`` (fraction of training examples stamped and
relabelled to ``target``). That dict, plus the measured ``asr`` and ``clean_acc``, is the ``backdoor`` column of
the zoo: the ground truth a reader learns to detect. ``location`` and ``pattern`` are in the task's input space,
after its transforms (on a ``+permute`` task: of the permuted image).
"""

from __future__ import annotations

from typing import Any

import math
import numbers

import torch
from torch import Tensor

from metanet.errors import ConfigError, whole_number

__all__ = ["trigger_tensors", "apply_trigger", "poisoned_test_set", "poison_indices", "backdoor_target"]


def trigger_tensors(trigger: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """The trigger as ``(values, mask)``, both of ``input_shape`` (C, H, W): stamped pixels take ``values``.

    Args:
        trigger: the backdoor dict (``size``, ``location``, ``pattern``).
        input_shape: (C, H, W) of the task's images.
    """
    s, r, col, patch = _check_trigger(trigger, input_shape)
    values = torch.zeros(input_shape)
    mask = torch.zeros(input_shape, dtype=torch.bool)
    values[:, r : r + s, col : col + s] = patch
    mask[:, r : r + s, col : col + s] = True
    return values, mask


def _check_trigger(trigger: Any, input_shape: Any) -> tuple[int, int, int, Tensor]:
    """``(size, row, col, patch)`` of a trigger that fits ``input_shape``; else a ConfigError naming the problem.

    A hand-made trigger (or a damaged ``backdoor`` column) was a bare KeyError or a torch broadcasting error, and a
    trigger partly outside the image was cut silently by slicing, or failed on a negative row.
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list, torch.Size)) else None
    if shape is None or len(shape) != 3 or any(whole_number(d) is None or whole_number(d) < 1 for d in shape):
        raise ConfigError(f"a backdoor trigger needs images of shape (C, H, W); got input shape {input_shape!r:.60}")
    missing = [k for k in ("size", "location", "pattern") if not isinstance(trigger, dict) or k not in trigger]
    if missing:
        raise ConfigError(f"a backdoor trigger is a dict with keys size, location, pattern (and target); "
                          f"{'got ' + repr(trigger)[:60] if not isinstance(trigger, dict) else f'missing {missing}'}")
    _, h, w = (int(d) for d in shape)
    s = trigger["size"]
    s = whole_number(s) if not isinstance(s, str) else None
    if s is None or not 1 <= s <= min(h, w):
        raise ConfigError(f"backdoor trigger size {trigger['size']!r:.40} does not fit {h}x{w} images; valid: "
                          f"integers 1..{min(h, w)}")
    loc = trigger["location"]
    rc = [whole_number(v) if not isinstance(v, str) else None for v in loc] if isinstance(loc, (list, tuple)) else []
    if len(rc) != 2 or None in rc or not (0 <= rc[0] <= h - s and 0 <= rc[1] <= w - s):
        raise ConfigError(f"backdoor trigger location {loc!r:.40} does not place a {s}x{s} patch inside {h}x{w} "
                          f"images; valid: [row, col] with row in 0..{h - s} and col in 0..{w - s}")
    try:
        patch = torch.tensor(trigger["pattern"], dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        patch = None
    if patch is None or tuple(patch.shape) != (s, s) or not bool(torch.isfinite(patch).all()):
        raise ConfigError(f"backdoor trigger pattern {trigger['pattern']!r:.60} is not a {s}x{s} list of lists of "
                          "finite pixel values (0/1)")
    return s, rc[0], rc[1], patch


def backdoor_target(trigger: Any) -> int:
    """The trigger's target class, checked: an integer >= 0 (a ConfigError otherwise)."""
    t = trigger.get("target") if isinstance(trigger, dict) else None
    i = whole_number(t) if not isinstance(t, str) else None  # int(2.7) was class 2, int("random") a ValueError
    if i is None or i < 0:
        raise ConfigError(f"backdoor trigger target {t!r:.40} is not a class index (an integer >= 0)")
    return i


def apply_trigger(x: Tensor, trigger: dict[str, Any]) -> Tensor:
    """``x`` (..., C, H, W) with the trigger stamped on every image (a new tensor, on ``x``'s device and dtype)."""
    if not isinstance(x, Tensor) or x.dim() < 3:
        raise ConfigError(f"apply_trigger needs images (..., C, H, W); got {getattr(x, 'shape', type(x).__name__)}")
    values, mask = trigger_tensors(trigger, tuple(x.shape[-3:]))
    return torch.where(mask.to(x.device), values.to(x.device, x.dtype), x)


def poisoned_test_set(x: Tensor, y: Tensor, trigger: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """The attack-success test set: every example whose true class is not the target, trigger stamped.

    The attack success rate (ASR) is the fraction of these that a network classifies as ``trigger['target']``.

    Returns:
        ``(x_triggered, y_target)``: inputs and a label tensor filled with the target.
    """
    target = backdoor_target(trigger)
    if not isinstance(x, Tensor) or not isinstance(y, Tensor) or y.dim() != 1 or x.dim() < 1 or len(x) != len(y):
        raise ConfigError(f"poisoned_test_set needs inputs x (n, C, H, W) and labels y (n,); got shapes "
                          f"{tuple(getattr(x, 'shape', ()))} and {tuple(getattr(y, 'shape', ()))}")
    keep = y != target
    xs = apply_trigger(x[keep], trigger)
    return xs, torch.full((len(xs),), target, dtype=torch.long, device=xs.device)


def poison_indices(n: int, rate: float, generator: torch.Generator) -> Tensor:
    """Indices of the ``round(rate * n)`` training examples a poisoned run stamps and relabels (seeded)."""
    # a negative rate sliced from the end ([:-2] kept all but 2), NaN or a float n were raw errors
    if isinstance(n, str) or whole_number(n) is None or whole_number(n) < 0:
        raise ConfigError(f"poison_indices: n = {n!r:.40}; valid: integers >= 0 (the number of training examples)")
    if not (isinstance(rate, numbers.Real) and not isinstance(rate, bool) and math.isfinite(rate) and 0 <= rate <= 1):
        raise ConfigError(f"poison_indices: rate = {rate!r:.40}; valid: numbers in [0, 1] (the fraction poisoned)")
    n = whole_number(n)
    k = int(round(rate * n))
    return torch.randperm(n, generator=generator)[:k]
