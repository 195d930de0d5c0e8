"""Backdoor triggers: a small patch stamped on images, and what a poisoned run learns from it.

A trigger is the plain dict a recipe samples (:meth:`metanet.zoo.Recipe.sample_run`): ``kind`` (square, checker
or random), ``size`` (side in pixels), ``location`` ([row, col] of its top-left pixel), ``pattern`` (size x size
of 0/1: the patch's pixel values, on every channel), ``target`` (the class it should force) and ``poison_rate``
(fraction of training examples stamped and relabelled to ``target``). That dict, plus the measured ``asr`` and
``clean_acc``, is the ``backdoor`` column of the zoo: the ground truth a reader learns to detect.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["trigger_tensors", "apply_trigger", "poisoned_test_set", "poison_indices"]


def trigger_tensors(trigger: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """The trigger as ``(values, mask)``, both of ``input_shape`` (C, H, W): stamped pixels take ``values``.

    Args:
        trigger: the backdoor dict (``size``, ``location``, ``pattern``).
        input_shape: (C, H, W) of the task's images.
    """
    c, h, w = input_shape
    s = int(trigger["size"])
    r, col = trigger["location"]
    values = torch.zeros(input_shape)
    mask = torch.zeros(input_shape, dtype=torch.bool)
    patch = torch.tensor(trigger["pattern"], dtype=torch.float32)
    values[:, r : r + s, col : col + s] = patch
    mask[:, r : r + s, col : col + s] = True
    return values, mask


def apply_trigger(x: Tensor, trigger: dict[str, Any]) -> Tensor:
    """``x`` (..., C, H, W) with the trigger stamped on every image (a new tensor)."""
    values, mask = trigger_tensors(trigger, tuple(x.shape[-3:]))
    return torch.where(mask, values.to(x.dtype), x)


def poisoned_test_set(x: Tensor, y: Tensor, trigger: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """The attack-success test set: every example whose true class is not the target, trigger stamped.

    The attack success rate (ASR) is the fraction of these that a network classifies as ``trigger['target']``.

    Returns:
        ``(x_triggered, y_target)``: inputs and a label tensor filled with the target.
    """
    keep = y != int(trigger["target"])
    xs = apply_trigger(x[keep], trigger)
    return xs, torch.full((len(xs),), int(trigger["target"]), dtype=torch.long)


def poison_indices(n: int, rate: float, generator: torch.Generator) -> Tensor:
    """Indices of the ``round(rate * n)`` training examples a poisoned run stamps and relabels (seeded)."""
    k = int(round(rate * n))
    return torch.randperm(n, generator=generator)[:k]
