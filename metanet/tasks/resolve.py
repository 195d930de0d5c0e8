"""One reading of a task spec, for every function that takes one: :func:`resolve`."""

from __future__ import annotations

import numbers
import reprlib
import warnings
from typing import Any

import torch

from metanet.errors import TaskError

from .examples import from_examples
from .parse import parse
from .registry import get
from .task import Task

__all__ = ["resolve", "as_examples", "as_inputs", "is_examples", "task_name", "task_input_shape"]


def as_inputs(x: torch.Tensor, what: str = "inputs") -> torch.Tensor:
    """Inputs as every task reader reads them: uint8 0..255 divided by 255, bool as 0/1, floating point as it is
    (itself, not a copy); a TaskError naming ``what`` for any other dtype."""
    if x.dtype == torch.uint8:
        return x.to(torch.float32) / 255
    if x.dtype == torch.bool:
        return x.to(torch.float32)
    if not x.is_floating_point():
        raise TaskError(f"{what} have dtype {x.dtype}; use floating point values in [0, 1], or uint8 values 0..255 "
                        "(divided by 255)")
    return x


# Float inputs of no negative value reaching past this look like 0..255 images cast to float (x.float() of uint8, or
# ToTensor skipped): every task gives [0, 1], and mnist1d's test signals, scaled by its train split, overshoot 1 a
# little; standardised inputs ((x - mean) / std) go negative, so they are not taken for 0..255 images.
_PAST_UNIT_SCALE = 2.0


def _warn_if_unscaled(x: torch.Tensor, where: str) -> None:
    """Warn when float inputs look like images on a 0..255 scale: read as they are (a network may have been trained
    on them), but a network or writer made for tasks expects [0, 1], and its accuracy collapses without a word."""
    if not x.is_floating_point() or x.is_meta or x.numel() == 0:
        return
    lo, hi = map(float, torch.aminmax(x.detach()))  # one pass over the data
    if lo >= 0 and hi > _PAST_UNIT_SCALE:  # NaN compares false: no warning (and no claim about its scale)
        from metanet._state import user_stacklevel

        warnings.warn(f"{where}: float inputs span [{lo:g}, {hi:g}], but task inputs are scaled to [0, 1] (every "
                      "built-in task and from_examples give them so; networks and the writer made for tasks read "
                      "them so); they are used as they are: divide 0..255 images by 255, or pass them as uint8",
                      UserWarning, stacklevel=user_stacklevel())


def as_examples(x: Any, y: Any, where: str = "the examples") -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` as a Task's split gives them: tensors, floating-point inputs and int64 labels ``(n,)``.

    Tensors and numpy arrays are taken; uint8 inputs 0..255 are divided by 255 and bool inputs become 0/1 (as
    :func:`from_examples` reads them); floating inputs are kept as they are (a float64 split runs a float64
    network in its own precision). Tensors that already fit are returned themselves, not copied. Float inputs that
    look like 0..255 images (none negative, the largest past 2) are used as they are, with a UserWarning naming the
    range seen and the [0, 1] that tasks give: a network made for a task read them silently at the wrong scale.

    Raises:
        TaskError: other input dtypes, labels that are not integers of shape ``(n,)``, or lengths that differ
            (they used to fail deep inside torch, or uint8 images were used as 0..255 by a network reading [0, 1]).
    """
    try:
        x, y = torch.as_tensor(x), torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TaskError(f"{where}: inputs and labels must be tensors or arrays ({type(e).__name__}: {e})") from None
    x = as_inputs(x, f"{where}: inputs")
    if y.dim() != 1 or y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TaskError(f"{where}: labels must be integer class ids 0..k-1 of shape (n,), got dtype {y.dtype} and "
                        f"shape {tuple(y.shape)} (e.g. y.long())")
    if x.dim() < 1 or len(x) != len(y):
        raise TaskError(f"{where}: {len(x) if x.dim() else 0} inputs but {len(y)} labels; they must match")
    _warn_if_unscaled(x, where)
    return x, y.long()


class _Given:
    """A task given as any object with ``split`` and ``num_classes``: every attribute is its own, and its splits are
    read by :func:`as_examples` (numpy arrays, uint8 images, int32 labels work as in a Task; other dtypes are a
    TaskError naming the split)."""

    def __init__(self, task: Any) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name == "_task":  # not set yet (copy / unpickling): no recursion
            raise AttributeError(name)
        return getattr(self._task, name)

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self._task.split(name)
        return as_examples(x, y, f"split {name!r} of task {getattr(self._task, 'name', '')!r}")


def task_name(task: Any) -> str:
    """The name of a resolved task; a task given as any object with ``split`` and ``num_classes`` may have none:
    then its type's name (one name in every message and report about it, never an empty one)."""
    name = getattr(task, "name", None)
    return name if isinstance(name, str) and name else type(getattr(task, "_task", task)).__name__


def task_input_shape(task: Any) -> tuple[int, ...]:
    """The shape of one input of a resolved task; a task given as any object with ``split`` and ``num_classes`` may
    have no ``input_shape``: then its train split's."""
    shape = getattr(task, "input_shape", None)
    return tuple(task.split("train")[0].shape[1:]) if shape is None else tuple(shape)


def is_examples(spec: Any) -> bool:
    """Whether :func:`resolve` reads ``spec`` as labelled examples ``(x, y)`` or ``[x, y]``."""
    if hasattr(spec, "split") and hasattr(spec, "num_classes"):  # a task, even a 2-tuple one (a namedtuple)
        return False
    return isinstance(spec, (tuple, list)) and len(spec) == 2 and not any(
        isinstance(s, (str, bytes, numbers.Number)) for s in spec)


def resolve(spec: Any) -> Task:
    """The :class:`Task` a spec names.

    Args:
        spec: a :class:`Task` (returned as is; anything else with ``split`` and ``num_classes`` is too, with its
            splits read by :func:`as_examples`: numpy arrays, uint8 images 0..255 and int32 labels work), a task name
            (``"mnist[3,8]"``), free text (``"a network that can read mnist"``, see :func:`parse`) or labelled
            examples ``(x, y)`` or ``[x, y]`` (see :func:`from_examples`: split per class into train / val / test,
            seed 0).

    Raises:
        TaskError: anything else, an unknown name, text that names no task, or bad examples.
    """
    if isinstance(spec, (Task, _Given)):
        return spec
    if not isinstance(spec, str) and hasattr(spec, "split") and hasattr(spec, "num_classes"):
        return _Given(spec)
    if is_examples(spec):
        return from_examples(*spec)  # a list [x, y] too: what json/yaml or a zip of arrays gives
    if not isinstance(spec, str) or not spec.strip():
        short = reprlib.Repr()
        short.maxstring = short.maxother = 60
        raise TaskError(f"a task spec must be a task name ('mnist[3,8]'), a sentence ('only 3s and 8s'), a Task or "
                        f"labelled examples (x, y), got {type(spec).__name__} {short.repr(spec)}")
    try:
        return get(spec)
    except TaskError as by_name:
        try:
            return parse(spec)
        except TaskError as by_text:  # parse's message covers the name grammar as well
            raise TaskError(f"{by_text}") from by_name
