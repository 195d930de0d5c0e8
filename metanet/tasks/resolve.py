"""One reading of a task spec, for every function that takes one: :func:`resolve`."""

from __future__ import annotations

import numbers
import re
import reprlib
import sys
import warnings
from typing import Any

import numpy as np
import torch

from metanet.errors import TaskError

from .examples import from_examples
from .parse import parse
from .registry import get
from .task import Task

__all__ = ["resolve", "as_examples", "as_inputs", "is_examples", "is_pair", "unpack_dataset", "task_name",
           "task_input_shape"]


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
# ToTensor skipped): every task gives [0, 1] (mnist1d's val / test signals too: clipped to its train split's range);
# standardised inputs ((x - mean) / std) go negative, so they are not taken for 0..255 images.
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
        if isinstance(x, (list, tuple)) and len(x) and all(isinstance(a, torch.Tensor) for a in x):
            x = torch.stack(x)  # a list of input tensors ([x for x, _ in ds]): torch.as_tensor takes 0-d ones only
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
        isinstance(s, (str, bytes, numbers.Number)) for s in spec) and not all(map(is_pair, spec))


def is_pair(p: Any) -> bool:
    """One ``(input, label)`` item of ``list(dataset)``: two of them are no ``(x, y)`` (x would be a pair)."""
    return (isinstance(p, (tuple, list)) and len(p) == 2 and isinstance(p[0], (torch.Tensor, np.ndarray, list))
            and (isinstance(p[1], numbers.Integral) or isinstance(p[1], (torch.Tensor, np.ndarray)) and p[1].ndim == 0))


def _is_dataset(spec: Any) -> bool:
    # a dataset may keep its split's name in .split ("train") and a .num_classes: a task has a split() method
    return isinstance(spec, torch.utils.data.Dataset) and not callable(getattr(spec, "split", None))


def _item(item: Any, i: int, what: str) -> tuple[torch.Tensor, int]:
    """Item ``i`` of a dataset as ``(input tensor, label)``; a TaskError naming the item for any other item."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        got = (f"a {type(item).__name__} of {len(item)} items" if isinstance(item, (tuple, list)) else
               f"a dict (keys {', '.join(map(repr, list(item)[:4]))})" if isinstance(item, dict) else
               f"a {type(item).__name__}")
        raise TaskError(f"item {i} of {what} is {got}; a dataset given as a task must yield (input, label) pairs")
    x, y = item
    if not isinstance(x, torch.Tensor):
        if not isinstance(x, np.ndarray) and not hasattr(x, "__array__") and not hasattr(x, "__array_interface__"):
            raise TaskError(f"item {i} of {what}: the input is a {type(x).__name__}; expected a tensor or numpy "
                            "array (e.g. a transform=ToTensor() in the dataset)")
        try:  # a PIL image too (uint8: divided by 255 as any uint8 input); a copy, as its array is read-only
            x = torch.tensor(np.asarray(x))
        except (TypeError, ValueError, RuntimeError) as e:
            raise TaskError(f"item {i} of {what}: the input could not be read as a tensor "
                            f"({type(e).__name__}: {e})") from None
    if x.dim() == 0:
        raise TaskError(f"item {i} of {what}: the input is a single number; each input needs a shape of at least "
                        "one dimension (e.g. a tensor of shape (1,))")
    if isinstance(y, np.ndarray) and y.ndim == 0:
        y = y[()]  # its numpy scalar
    if isinstance(y, torch.Tensor) and y.dim() == 0 and not (y.is_floating_point() or y.is_complex()
                                                             or y.dtype == torch.bool):
        return x, int(y)
    if isinstance(y, (int, np.integer)) and not isinstance(y, (bool, np.bool_)):
        return x, int(y)
    hint = ""
    if isinstance(y, (torch.Tensor, np.ndarray)):
        got = f"a {type(y).__name__} of dtype {y.dtype} and shape {tuple(y.shape)}"
        if y.ndim == 1 and y.shape[0] > 1:
            hint = " (one-hot? its argmax() is the class id)"
        elif y.ndim >= 1:
            hint = " (e.g. label.item())"
    else:
        got = f"{type(y).__name__} {y!r:.40}"
    raise TaskError(f"item {i} of {what}: the label is {got}; expected an integer class id 0..k-1 (an int or a 0-d "
                    f"integer tensor){hint}")


def _tensors(ds: Any, what: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The examples of a TensorDataset (its tensors themselves, no copy) or of a Subset of one (their rows), whose
    items are rows of these tensors; None for any other dataset."""
    getitem = type(ds).__getitem__
    if getitem is torch.utils.data.TensorDataset.__getitem__:
        if len(ds.tensors) != 2:
            k = len(ds.tensors)
            raise TaskError(f"{what} holds {k} tensor{'s' * (k != 1)}; a dataset given as a task must hold 2: "
                            "inputs and labels")
        return ds.tensors[0], ds.tensors[1]
    if getitem is torch.utils.data.Subset.__getitem__:
        xy = _tensors(ds.dataset, what)
        if xy is not None:
            rows = torch.as_tensor(np.asarray(ds.indices, dtype=np.int64))
            return xy[0][rows], xy[1][rows]
    return None


def _collate(ds: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A map-style dataset's items stacked into ``(x, y)``: each item read once, its input copied into place."""
    xy = _tensors(ds, what)
    if xy is not None:
        return xy
    try:
        n = len(ds)
    except TypeError:  # Dataset itself defines no __len__
        raise TaskError(f"{what} has no length (__len__); a dataset given as a task must be a map-style dataset of "
                        "(input, label) pairs with a length") from None
    if n == 0:
        raise TaskError(f"{what} is empty; labelled examples need at least one example per class, for at least 2 "
                        "classes")
    x0, y0 = _item(ds[0], 0, what)
    xs = torch.empty((n, *x0.shape), dtype=x0.dtype, device=x0.device)
    ys = torch.empty(n, dtype=torch.int64)
    from tqdm import tqdm

    # a bar only when reading the items is slow (a transform on each image, files read one by one), on a terminal
    # (disable=None); none when stderr is closed, where tqdm's bar was an AttributeError
    bar = tqdm(range(n), desc=f"reading {type(ds).__name__}", unit="item", delay=5, leave=False,
               disable=None if sys.stderr is not None else True)
    with torch.no_grad():
        for i in bar:
            x, y = (x0, y0) if i == 0 else _item(ds[i], i, what)
            if x.shape != x0.shape:
                raise TaskError(f"item {i} of {what}: an input of shape {tuple(x.shape)}, but item 0's has shape "
                                f"{tuple(x0.shape)}; every input must have one shape (resize or pad them)")
            if x.dtype != x0.dtype:  # torch.stack would promote them: uint8 images among floats read as 0..255
                raise TaskError(f"item {i} of {what}: an input of dtype {x.dtype}, but item 0's is {x0.dtype}; "
                                "every input must have one dtype")
            xs[i] = x
            ys[i] = y
    return xs, ys


def unpack_dataset(spec: Any) -> Any:
    """``spec`` itself, or, for a map-style ``torch.utils.data.Dataset`` of ``(input, label)`` pairs (a
    ``TensorDataset``, a ``Subset`` or ``ConcatDataset`` of one, a torchvision-style dataset of ``(tensor, int)``),
    its labelled examples ``(x, y)``: every item read once, inputs stacked as they are, labels as int64; the
    examples are then what passing that ``(x, y)`` gives (same checks, splits and name).

    Raises:
        TaskError: an item that is not an ``(input, label)`` pair of a tensor or array and an integer label,
            inputs of different shapes or dtypes, an empty dataset, or a ``DataLoader`` / ``IterableDataset``
            (read in an order or length of their own: pass ``loader.dataset``, or collate the examples).
    """
    if isinstance(spec, torch.utils.data.DataLoader):
        raise TaskError("a DataLoader is not read as a task: it gives batches in an order of its own (shuffle, "
                        "sampler, drop_last); pass its map-style dataset (loader.dataset) or the examples (x, y)")
    if isinstance(spec, torch.utils.data.IterableDataset):
        raise TaskError(f"an IterableDataset ({type(spec).__name__}) is not read as a task: it has no length or "
                        "index; pass a map-style Dataset of (input, label) pairs, or collate it yourself: x, y = "
                        "torch.utils.data.default_collate(list(ds)), then (x, y)")
    if not _is_dataset(spec):
        return spec
    return _collate(spec, f"the {type(spec).__name__}")


def resolve(spec: Any) -> Task:
    """The :class:`Task` a spec names.

    Args:
        spec: a :class:`Task` (returned as is; anything else with ``split`` and ``num_classes`` is too, with its
            splits read by :func:`as_examples`: numpy arrays, uint8 images 0..255 and int32 labels work), a task name
            (``"mnist[3,8]"``), free text (``"a network that can read mnist"``, see :func:`parse`), labelled
            examples ``(x, y)`` or ``[x, y]`` (see :func:`from_examples`: split per class into train / val / test,
            seed 0), or a map-style ``torch.utils.data.Dataset`` of ``(input, label)`` pairs (a ``TensorDataset``,
            a ``Subset`` or ``ConcatDataset``, a torchvision-style dataset of ``(tensor, int)``): its items stacked
            into ``(x, y)`` once and read as those examples (:func:`unpack_dataset`). A ``DataLoader`` or an
            ``IterableDataset`` is refused: pass ``loader.dataset``, or the examples.

    Raises:
        TaskError: anything else, an unknown name, text that names no task, or bad examples.
    """
    if isinstance(spec, (Task, _Given)):
        return spec
    spec = unpack_dataset(spec)  # a Dataset of (input, label) pairs: its examples (x, y)
    if not isinstance(spec, str) and hasattr(spec, "split") and hasattr(spec, "num_classes"):
        return _Given(spec)
    if is_examples(spec):
        return from_examples(*spec)  # a list [x, y] too: what json/yaml or a zip of arrays gives
    if not isinstance(spec, str) or not spec.strip():
        short = reprlib.Repr()
        short.maxstring = short.maxother = 60
        one_line = re.sub(r"\n\s*", " ", short.repr(spec))  # a tensor's or array's repr spans several lines
        got = f"{type(spec).__name__} {one_line}"
        if isinstance(spec, dict):  # {"x": ..., "y": ...}: its arrays' reprs said nothing of what to do
            keys = [short.repr(k) for k, _ in zip(spec, range(4))]
            pair = f"(d[{keys[0]}], d[{keys[1]}])" if len(spec) == 2 else "(x, y)"
            # {} said "(keys )"; 5 keys listed 4 as if they were all
            keys = keys + ["..."] if len(spec) > 4 else keys or ["none"]
            got = f"a dict (keys {', '.join(keys)}); pass its inputs and labels as a pair {pair}"
        elif isinstance(spec, (list, tuple)) and spec and all(
                isinstance(p, (tuple, list)) and len(p) == 2 and not isinstance(p[0], (str, bytes)) for p in spec):
            # list(dataset), list(zip(x, y)): a Dataset's items, but not a Dataset
            got = (f"a {type(spec).__name__} of {len(spec)} (input, label) pairs; pass them as (x, y): x = "
                   "torch.stack([a for a, _ in pairs]), y = torch.tensor([b for _, b in pairs])")
        raise TaskError(f"a task spec must be a task name ('mnist[3,8]'), a sentence ('only 3s and 8s'), a Dataset "
                        f"of (x, y) pairs, a Task or labelled examples (x, y), got {got}")
    try:
        return get(spec)
    except TaskError as by_name:
        try:
            return parse(spec)
        except TaskError as by_text:  # parse's message covers the name grammar as well
            raise TaskError(f"{by_text}") from by_name
