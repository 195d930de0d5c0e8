"""Tasks from labelled examples: :func:`from_examples`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from metanet.errors import TaskError

from .grammar import is_task_name
from .task import SPLITS, Task, TaskData

__all__ = ["from_examples", "examples_split", "MIN_PER_CLASS_FOR_SPLIT"]

#: A class needs at least this many distinct inputs to contribute to ``val`` and ``test``; smaller classes go to train.
MIN_PER_CLASS_FOR_SPLIT = 3
# from_examples' default fractions, which examples_split splits by too
_VAL_FRACTION = _TEST_FRACTION = 0.2

# labels such as "cat" / "dog", 3 / 7 or -1 / 1: "e.g. y.long()" cannot turn those into class ids 0..k-1
_RENUMBER = ("names, y = np.unique(y, return_inverse=True) numbers them 0..k-1, and from_examples(x, y, "
             "class_names=names) keeps what each one was")


def _to_numpy(a: Any, what: str) -> np.ndarray:
    if isinstance(a, (list, tuple)) and len(a) and all(isinstance(t, torch.Tensor) for t in a):
        # a list of tensors ([x for x, _ in ds]), read as one tensor is (and as as_examples takes it): np.asarray
        # refused tensors that require grad or are bfloat16, which a single tensor of them is read as
        kinds = {t.dtype for t in a}
        if torch.uint8 in kinds and any(d.is_floating_point or d == torch.bool for d in kinds):
            # stacked, they would be promoted: the uint8 examples read as 0..255, not divided by 255
            raise TaskError(f"{what} is a list of tensors of dtypes {', '.join(sorted(map(str, kinds)))}; give every "
                            "example one dtype (uint8 images 0..255 are divided by 255, floats are read as they are)")
        try:
            a = torch.stack([t.detach() for t in a])
        except RuntimeError as e:  # different shapes or devices
            raise TaskError(f"{what} is a list of tensors that do not stack into one: {str(e).splitlines()[0]}") \
                from None
    if isinstance(a, torch.Tensor):
        if a.is_meta:  # a meta tensor has a shape but no values to learn from
            raise TaskError(f"{what} is on the 'meta' device and holds no data; pass a tensor with values (e.g. on cpu)")
        a = a.detach().cpu()
        if a.layout != torch.strided:  # sparse COO / CSR: numpy needs the dense values
            a = a.to_dense()
        if a.is_floating_point() and a.dtype not in (torch.float16, torch.float32, torch.float64):
            a = a.float()  # bfloat16 / float8 have no numpy dtype; float32 holds each of their values exactly
        return a.numpy()
    try:
        return np.asarray(a)
    except Exception as e:  # ragged lists and the like
        raise TaskError(f"{what} must be a tensor or array, could not convert {type(a).__name__}: {e}") from e


def _inputs(x: Any) -> np.ndarray:
    a = _to_numpy(x, "x")
    if a.ndim >= 1 and a.shape[0] == 0:  # before the shape check: ([], []) was told to use x[:, None]
        raise TaskError("x is empty: from_examples needs at least one example per class, for at least 2 classes")
    if a.ndim < 2:
        raise TaskError(
            f"x must have shape (n, *input_shape) with at least 2 dimensions, got shape {a.shape}; "
            "for one feature per example use x[:, None]"
        )
    if 0 in a.shape[1:]:
        raise TaskError(f"x has an empty input shape {a.shape[1:]}; each example needs at least one feature")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255)
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if not np.issubdtype(a.dtype, np.floating):
        raise TaskError(
            f"x has dtype {a.dtype}; use floating point values in [0, 1], or uint8 values 0..255 (divided by 255)"
        )
    tol = max(1e-4, 2 * float(np.finfo(a.dtype).eps))  # float16 rounds past 1 by 1e-3: a clip, not a rescale
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise TaskError(f"x contains {int((~np.isfinite(a)).sum())} NaN or infinite values; all must be finite")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0 or hi > 1:
        # :g rounds 1.0000001 to "1": inputs said to span [0, 1] were refused for not lying in [0, 1]
        his = f"{hi:g}" if hi <= 1 or float(f"{hi:g}") > 1 else f"{hi:.9g}"
        fix = ("for a rounding error that small, clip them: x.clip(0, 1)" if lo > -tol and hi < 1 + tol
               else "rescale them (e.g. (x - x.min()) / (x.max() - x.min())) or pass uint8 images 0..255")
        raise TaskError(f"x values span [{lo:g}, {his}], but task inputs must lie in [0, 1]; {fix}")
    return a


def _labels(y: Any, n: int, every_class: bool = True) -> np.ndarray:
    """The labels as int64; with ``every_class=False`` any ids >= 0, classes without examples allowed."""
    a = _to_numpy(y, "y")
    if a.ndim != 1:
        # as a Dataset's one-hot label is told (resolve._item): "got shape (n, 10)" alone named no way out
        hint = ("; one-hot labels? y.argmax(1) gives their class ids" if a.ndim == 2 and a.shape[1] > 1 else
                "; y.reshape(-1) makes the column 1-D" if a.ndim == 2 and a.shape[1] == 1 else "")
        raise TaskError(f"y must be a 1-D array of class ids, got shape {a.shape}{hint}")
    if len(a) != n:
        raise TaskError(f"x has {n} examples but y has {len(a)} labels; they must match")
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        raise TaskError(f"y has dtype {a.dtype}; labels must be integer class ids 0..k-1 (e.g. y.long() for whole "
                        f"numbers; for other labels, {_RENUMBER})")
    lo, hi = int(a.min()), int(a.max())  # before the int64 cast: uint64 2**63 + 5 wrapped to a "negative label"
    if lo < 0:
        raise TaskError(f"y contains negative label {lo}; labels must be 0..k-1 ({_RENUMBER})")
    if not every_class:
        return a.astype(np.int64)  # lo >= 0 and an integer dtype: every label fits
    k = hi + 1
    if k > n:  # some class must be missing; checked before bincount, which would allocate k counters
        raise TaskError(
            f"labels must be 0..k-1 with every class present, but the largest label is {k - 1} for only {n} "
            f"examples (renumber the labels: {_RENUMBER})"
        )
    a = a.astype(np.int64)  # safe now: every label is in 0..n-1
    counts = np.bincount(a, minlength=k)
    if k < 2:
        raise TaskError("y has a single class; a task needs at least 2 classes (labels 0..k-1, k >= 2)")
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise TaskError(
            f"labels must be 0..k-1 with every class present; classes {missing.tolist()} of 0..{k - 1} have no "
            f"examples (renumber the labels: {_RENUMBER})"
        )
    return a


def _repeats(xs: np.ndarray) -> np.ndarray | None:
    """Per row, the index of the first row with an equal input (equal in every value), or None if none repeats."""
    n = xs.shape[0]
    rows = xs.reshape(n, -1)
    # a hash per row (-0.0 + 0 is 0.0: equal values, equal bytes), then a check of the rows it pairs: np.unique
    # over whole rows took 2.4 s for 70,000 images
    keys = np.array([hash((r + np.float32(0)).tobytes()) for r in rows])
    first, inv = np.unique(keys, return_index=True, return_inverse=True)[1:]
    if len(first) == n:
        return None
    gid = first[inv.reshape(-1)]
    dup = np.flatnonzero(gid != np.arange(n))
    if not (rows[dup] == rows[gid[dup]]).all():  # two inputs of one hash: group them by their bytes instead
        rows = np.ascontiguousarray(rows + np.float32(0))
        keys = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
        first, inv = np.unique(keys, return_index=True, return_inverse=True)[1:]
        gid = first[inv.reshape(-1)]
    return gid


def _split_indices(
    y: np.ndarray, val_fraction: float, test_fraction: float, seed: int, xs: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # equal inputs go to one split, else a test example scored what the support showed; an input given with
    # different labels goes to train (no split could score it consistently). Without repeats: the rows themselves
    gid = None if xs is None else _repeats(xs)
    if gid is not None:
        lo_y, hi_y = np.full(len(y), np.iinfo(np.int64).max), np.full(len(y), -1)
        np.minimum.at(lo_y, gid, y)
        np.maximum.at(hi_y, gid, y)
        lead = (gid == np.arange(len(y))) & (lo_y == hi_y)  # the first row of each input of a single label
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    # the classes present, in order: the same draws as over 0..max (an empty class draws nothing), and no loop
    # over a billion absent ids for labels that need not use every class (examples_split). Each class's rows, in
    # ascending order, come from one stable sort: a scan of y per class took seconds for 10^5 examples of 10^4 classes
    order = np.argsort(y, kind="stable")
    starts = np.unique(y[order], return_index=True)[1]
    for lo, hi in zip(starts, [*starts[1:], len(y)]):
        rows = order[lo:hi]
        idx = rng.permutation(rows if gid is None else rows[lead[rows]])  # one draw per distinct input
        n = len(idx)
        n_val = n_test = 0
        if n >= MIN_PER_CLASS_FOR_SPLIT:
            n_val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
            n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
            while n_val + n_test > n - 1:  # keep at least one training example
                if n_test >= n_val:
                    n_test -= 1
                else:
                    n_val -= 1
        if gid is None:
            parts["test"].append(idx[:n_test])
            parts["val"].append(idx[n_test : n_test + n_val])
            parts["train"].append(idx[n_test + n_val :])
        else:  # each input's rows where its first row went; the rows of an input of several labels to train
            test, val = (rows[np.isin(gid[rows], part)] for part in (idx[:n_test], idx[n_test : n_test + n_val]))
            parts["test"].append(test)
            parts["val"].append(val)
            parts["train"].append(np.setdiff1d(rows, np.concatenate([test, val])))
    return {s: np.sort(np.concatenate(p)) for s, p in parts.items()}


def _name(xs: np.ndarray, ys: np.ndarray) -> str:
    """``"examples-<8 hex digits>"``: a hash of the examples, the default name of their task."""
    h = hashlib.sha1(np.ascontiguousarray(xs).tobytes())
    h.update(str(xs.shape).encode())
    h.update(ys.tobytes())
    return f"examples-{h.hexdigest()[:8]}"


def examples_split(x: Any, y: Any, split: str) -> tuple[str, torch.Tensor, torch.Tensor, int]:
    """Split ``split`` of labelled examples whose labels need not use every class, for scoring a network on some of
    its classes (:func:`metanet.verify` on a network's 3s and 8s): ``(name, x, y, k)``.

    The inputs are read, split and named as :func:`from_examples` (default fractions, seed 0) reads, splits and
    names them (equal inputs in one split), so for labels that use every class ``x`` and ``y`` are its task's
    ``split(split)``; ``y`` keeps the labels as given (any integers >= 0) and ``k`` is the largest label of all the
    examples plus 1.
    """
    if not isinstance(split, str) or split not in SPLITS:  # as Task.split refuses one
        raise TaskError(f"unknown split {split!r} for examples (x, y); valid splits: {', '.join(SPLITS)}")
    xs = _inputs(x)
    ys = _labels(y, xs.shape[0], every_class=False)
    rows = _split_indices(ys, _VAL_FRACTION, _TEST_FRACTION, 0, xs)[split]
    return _name(xs, ys), torch.from_numpy(xs[rows]), torch.from_numpy(ys[rows]), int(ys.max()) + 1


def from_examples(
    x: Any,
    y: Any,
    name: str | None = None,
    *,
    val_fraction: float = _VAL_FRACTION,
    test_fraction: float = _TEST_FRACTION,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> Task:
    """A :class:`Task` from labelled examples (tensors, numpy arrays or nested lists).

    ``x``: shape ``(n, *input_shape)``, floating values in [0, 1] (or uint8 0..255, divided by 255; or bool),
    all finite. ``y``: ``n`` integer labels ``0..k-1``, ``k >= 2``, every class present.

    The examples are split per class (stratified, shuffled with ``seed``): a class with at least
    :data:`MIN_PER_CLASS_FOR_SPLIT` examples gives ``round(n_c * test_fraction)`` (at least 1) to ``test``,
    ``round(n_c * val_fraction)`` (at least 1) to ``val`` and keeps at least 1 for ``train``; smaller classes go
    wholly to ``train``, so ``val`` / ``test`` can be small or even empty for tiny inputs (check ``sizes()``).
    Fractions of 0 put nothing in that split. Within a split, examples keep their original order.

    Equal inputs (equal in every value) are never split apart, so no ``val`` or ``test`` example is one the network
    was written from: ``n_c`` counts a class's distinct inputs, and all copies of one go where it goes. An input
    given with different labels goes wholly to ``train`` (no split could score it consistently). Without repeated
    inputs every example is its own input and the split is as described.

    ``name`` defaults to ``"examples-<8 hex digits>"`` (a hash of the data); it may not be a built-in task name.
    """
    for arg, v in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TaskError(f"{arg} must be a number in [0, 1), got {type(v).__name__} {v!r}")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise TaskError(
            f"val_fraction={val_fraction} and test_fraction={test_fraction} must each be in [0, 1) and sum to "
            "less than 1"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise TaskError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    xs = _inputs(x)
    ys = _labels(y, xs.shape[0])
    k = int(ys.max()) + 1
    if class_names is None:
        names = tuple(str(i) for i in range(k))
    else:
        if isinstance(class_names, (str, bytes)):  # a string is a sequence of letters, not of names
            raise TaskError(f"class_names must be a list of names, one per class, got the string {class_names!r}")
        try:
            names = tuple(str(c) for c in class_names)
        except TypeError:  # a number, a 0-d tensor: not a list (else a raw "not iterable" TypeError)
            raise TaskError(f"class_names must be a list of names, one per class, got {class_names!r:.80}") from None
        if len(names) != k:
            raise TaskError(f"class_names has {len(names)} entries but the labels give {k} classes (0..{k - 1})")
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:  # tasks.parse and the reports name classes by these: two classes of one name are one to a reader
            raise TaskError(f"class_names must be distinct; {', '.join(map(repr, dup))} names more than one class")
    if name is None:
        name = _name(xs, ys)
    elif not isinstance(name, str) or not name.strip():
        raise TaskError(f"name must be a non-empty string, got {name!r}")
    elif is_task_name(name):
        raise TaskError(f"name {name!r} is a built-in task name; choose another name for a task from examples")
    name = name.strip()

    rows = _split_indices(ys, val_fraction, test_fraction, seed, xs)
    sizes = {s: len(r) for s, r in rows.items()}
    data = TaskData(
        name=name,
        x={s: xs[r] for s, r in rows.items()},
        y={s: ys[r] for s, r in rows.items()},
        scale=1.0,
        class_names=names,
        description=(
            f"{len(ys):,} labelled examples given to from_examples ({k} classes, input shape {xs.shape[1:]}), "
            f"split stratified {sizes['train']} train / {sizes['val']} val / {sizes['test']} test (seed {seed})."
        ),
        source="examples",
    )
    return Task(name, data, base="examples")
