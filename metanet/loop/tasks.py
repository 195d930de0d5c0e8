"""Loop tasks: one task cut into **support** (conditions the writer), **val** (the reward is computed on it) and
**test** (reported only), disjoint by construction.

Every :class:`LoopTask` keeps the index sets it was cut with (into the pool it came from), so disjointness can be
checked, not only trusted: :meth:`LoopTask.check_disjoint`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import torch
from torch import Tensor

# check_seed, which the loop's modules import from here: 1.5 was a TaskError from the writer or a raw RuntimeError,
# None a raw TypeError, and a numpy integer an OverflowError
from metanet.errors import ArchError, TaskError, check_number, check_seed
from metanet.nets import Arch
from metanet.tasks import resolve
from metanet.tasks.resolve import as_examples, is_pair, unpack_dataset

__all__ = ["LoopTask", "split_examples", "from_task", "from_episode", "as_loop_tasks"]

Pair = tuple[Tensor, Tensor]


@dataclass
class LoopTask:
    """A task as the loop sees it. ``index`` maps ``support``/``val``/``test`` to indices into ``pool`` (the data
    the three parts were cut from; the same pool name means the same index space).

    Each part is read as a Task's split (numpy arrays, uint8 images 0..255, int32 labels) and kept as float32
    inputs and int64 labels; a part whose labels are not class ids ``0..num_classes-1``, or whose inputs and labels
    differ in length, is a TaskError here, when the task is made. A test part without examples is kept as None (no
    test split)."""

    name: str
    arch: Arch
    num_classes: int
    support: Pair
    val: Pair
    test: Pair | None = None
    index: dict[str, dict[str, Tensor]] = field(default_factory=dict)  # part -> {pool: indices}

    def __post_init__(self) -> None:
        # checked here, where the task is made: a float64 or numpy part used to make every round skip the task
        # (a warning per round, and a History of empty rounds), and wrong labels failed deep inside a round
        self.arch = Arch.coerce(self.arch)
        if self.arch.num_classes != self.num_classes:
            raise ArchError(f"task {self.name}: architecture {self.arch} has {self.arch.num_classes} outputs but the "
                            f"task has {self.num_classes} classes")
        for part in ("support", "val", "test"):
            pair = getattr(self, part)
            if pair is None and part == "test":
                continue
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TaskError(f"task {self.name}: {part} must be a pair (inputs, labels), got {type(pair).__name__}")
            x, y = as_examples(*pair, f"task {self.name}: {part}")
            if x.dtype != torch.float32:  # the writer and the written networks compute in float32
                x = x.float()
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
                raise TaskError(f"task {self.name}: {part} labels {int(y.min())}..{int(y.max())} are not class ids "
                                f"0..{self.num_classes - 1}")
            if part == "test" and len(y) == 0:
                # no test examples is no test split: evaluate() reported NaN accuracies as if measured (from_task of a
                # Task with an empty test split, e.g. a few labelled examples), and improve's heldout check missed it
                self.test = None
                continue
            setattr(self, part, (x, y))

    def labelled(self) -> Pair:
        """Every labelled example the loop may use: support then val (the pool cross-fitting cuts into folds, and
        the examples the chosen candidate is finally re-written from). The test split is never part of it."""
        return torch.cat([self.support[0], self.val[0]]), torch.cat([self.support[1], self.val[1]])

    def check_disjoint(self) -> None:
        """Raise TaskError if any two of support / val / test share an example of the same pool. A task built by
        hand, without the index of its parts, is checked by content: no val input may equal a support input (a
        reward computed on it would score data that conditioned the writer), and no test input a support or val
        input (the held-out accuracy would score examples the candidates were written from)."""
        parts = [p for p in ("support", "val", "test") if getattr(self, p) is not None]
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                if {a, b} <= set(self.index):
                    continue  # checked by index below
                seen = set(_row_keys(getattr(self, a)[0]))
                if any(k in seen for k in _row_keys(getattr(self, b)[0])):
                    raise TaskError(f"task {self.name}: {a} and {b} share examples (equal inputs); they must be "
                                    "disjoint")
        parts = list(self.index)
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                for pool, ia in self.index[a].items():
                    ib = self.index[b].get(pool)
                    if ib is not None and torch.isin(ia, ib).any():
                        raise TaskError(f"task {self.name}: {a} and {b} share examples of {pool}; they must be disjoint")


def _row_keys(x: Tensor) -> list[bytes]:
    width = x[0].numel() if len(x) else 0  # not reshape(n, -1): that is ambiguous for an empty part
    flat = x.detach().reshape(len(x), width).contiguous().cpu().numpy()
    return [row.tobytes() for row in flat]


def _per_class(y: Tensor, k: int, g: torch.Generator) -> list[Tensor]:
    return [torch.nonzero(y == c).flatten()[torch.randperm(int((y == c).sum()), generator=g)] for c in range(k)]


def split_examples(
    x: Tensor, y: Tensor, arch: Arch | str, shots: int, val: int, test: int | None = None, seed: int = 0,
    name: str = "examples",
) -> LoopTask:
    """Cut one labelled pool into support (``shots`` per class), val (``val`` per class) and test (the next ``test``
    per class; all the rest when None), per class, disjoint by construction."""
    # 2.5 or -1 shots was a raw TypeError or a misleading "support and test share examples"; x and y of unequal
    # length an IndexError; numpy arrays, uint8 images and int32 labels are read as a Task reads them
    check_number("shots", shots, ">= 1", lambda v: v >= 1, integer=True)
    check_number("val", val, ">= 0", lambda v: v >= 0, integer=True)
    if test is not None:
        check_number("test", test, ">= 0 (or None: all the rest)", lambda v: v >= 0, integer=True)
    x, y = as_examples(x, y, f"task {name}")
    arch = Arch.coerce(arch)
    k = arch.num_classes
    if k < 2:  # one class: every candidate is always right, the reward says nothing
        raise TaskError(f"task {name}: the loop needs at least 2 classes, the architecture {arch} has {k} output")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= k):  # labels the network cannot output were dropped silently
        raise TaskError(f"task {name}: labels {int(y.min())}..{int(y.max())} do not fit the architecture {arch} "
                        f"with {k} outputs (labels 0..{k - 1})")
    g = torch.Generator().manual_seed(check_seed(seed) % 2**64)  # seed + i near 2**64 overflowed
    s, v, t = [], [], []
    for c, idx in enumerate(_per_class(y, k, g)):
        if len(idx) < 2:
            raise TaskError(f"task {name}: class {c} has {len(idx)} examples; the loop needs >= 2 (support and val)")
        ns = min(shots, len(idx) - 1)
        nv = min(val, len(idx) - ns)
        s.append(idx[:ns]), v.append(idx[ns : ns + nv])
        t.append(idx[ns + nv :] if test is None else idx[ns + nv : ns + nv + test])
    s, v, t = (torch.cat(p).sort().values for p in (s, v, t))
    lt = LoopTask(name, arch, k, (x[s], y[s]), (x[v], y[v]), (x[t], y[t]) if len(t) else None,
                  {"support": {"pool": s}, "val": {"pool": v}, "test": {"pool": t}})
    lt.check_disjoint()
    return lt


def from_task(task, arch: Arch | str | None = None, shots: int = 50, val: int | None = None, seed: int = 0) -> LoopTask:
    """A loop task from a :class:`~metanet.tasks.Task`: support = ``shots`` per class of its ``train`` split
    (seeded), val = its ``val`` split (or ``val`` per class of it), test = its ``test`` split. The Task's own
    splits are disjoint, so the three parts are too."""
    check_number("shots", shots, ">= 1", lambda v: v >= 1, integer=True)  # 0 or -1: an empty or odd support
    if val is not None:
        check_number("val", val, ">= 1 (or None: the whole val split)", lambda v: v >= 1, integer=True)
    seed = check_seed(seed)
    task = resolve(task)
    arch = Arch.default_for(task.input_shape, task.num_classes) if arch is None else Arch.coerce(arch)
    if arch.num_classes != task.num_classes:
        raise TaskError(f"architecture {arch} has {arch.num_classes} outputs but task {task.name} has {task.num_classes} classes")
    g = torch.Generator().manual_seed(seed % 2**64)  # seed + i near 2**64 overflowed
    xtr, ytr = task.split("train")
    s = torch.cat([i[:shots] for i in _per_class(ytr, task.num_classes, g)]).sort().values
    xv, yv = task.split("val")
    vi = torch.arange(len(yv))
    if val is not None:
        vi = torch.cat([i[:val] for i in _per_class(yv, task.num_classes, g)]).sort().values
    xt, yt = task.split("test")
    return LoopTask(task.name, arch, task.num_classes, (xtr[s], ytr[s]), (xv[vi], yv[vi]), (xt, yt),
                    {"support": {"train": s}, "val": {"val": vi}, "test": {"test": torch.arange(len(yt))}})


def from_episode(ep, seed: int = 0) -> LoopTask:
    """A loop task from a writer :class:`~metanet.writer.episodes.Episode`: its support conditions the writer, its
    query set is cut per class in two halves, val (reward) and test (reported)."""
    qx, qy = ep.query
    k = ep.arch.num_classes
    g = torch.Generator().manual_seed(check_seed(seed) % 2**64)  # seed + i near 2**64 overflowed
    v, t = [], []
    for idx in _per_class(qy, k, g):
        h = max(1, len(idx) // 2)
        v.append(idx[:h]), t.append(idx[h:])
    v, t = torch.cat(v).sort().values, torch.cat(t).sort().values
    # support and query are disjoint draws of make_episode; val/test are disjoint halves of the query
    ns = len(ep.support[1])
    return LoopTask(ep.name, ep.arch, k, ep.support, (qx[v], qy[v]), (qx[t], qy[t]) if len(t) else None,
                    {"support": {"support": torch.arange(ns)}, "val": {"query": v}, "test": {"query": t}})


def as_loop_tasks(tasks, arch=None, shots: int = 50, seed: int = 0) -> list[LoopTask]:
    """Coerce a task, a name or sentence, labelled examples ``(x, y)``, an Episode or a LoopTask (or a list of
    them) to a list of LoopTasks. Labelled examples are split into train / val / test as
    :func:`metanet.tasks.from_examples` splits them (seed 0, whatever ``seed``): the same examples give the same test
    split here, in ``heldout`` and in :func:`metanet.generate`; ``seed + i`` draws the support of task ``i``."""
    from metanet.writer.episodes import Episode

    seed = check_seed(seed)  # checked up front, as improve does: 1.5 was a raw RuntimeError from the first task
    tasks = unpack_dataset(tasks)  # a Dataset of (input, label) pairs: its examples (x, y); a DataLoader refused
    if isinstance(tasks, (str, LoopTask, Episode)) or hasattr(tasks, "split") or _is_examples(tasks):
        tasks = [tasks]
    elif isinstance(tasks, (list, tuple)) and tasks and all(is_pair(t) for t in tasks):
        # list(zip(x, y)): each pair was read as a task of its own ("y must be a 1-D array ..., got shape ()")
        raise TaskError(f"loop tasks: got a {type(tasks).__name__} of {len(tasks)} (input, label) pairs; pass them as "
                        "one task (x, y): x = torch.stack([a for a, _ in pairs]), y = torch.tensor([b for _, b in "
                        "pairs])")
    elif isinstance(tasks, (Mapping, AbstractSet)) or not isinstance(tasks, Iterable):
        # None or a number was a raw TypeError; a dict gave its keys, a set an order that changes between runs
        raise TaskError(f"loop tasks are a task name, a Task, an Episode, a LoopTask, labelled examples (x, y), or a "
                        f"list of them; got {type(tasks).__name__}")
    out = []
    for i, t in enumerate(tasks):
        t = unpack_dataset(t)
        if isinstance(t, LoopTask):
            lt = t
        elif isinstance(t, Episode):
            lt = from_episode(t, seed=seed + i)
        elif _is_examples(t):  # labelled examples: a Task of their own (stratified train / val / test)
            from metanet.tasks import from_examples

            # split as every other reader of (x, y) splits them (from_examples' seed 0: generate, verify, refine), the
            # seed drawing only the support: split by seed + i, the same examples given as heldout (seed + 10_000)
            # or to a later generate / verify had test examples the loop had written from and rewarded on
            lt = from_task(from_examples(*t), arch=arch, shots=shots, seed=seed + i)
        elif isinstance(t, str) or hasattr(t, "split"):
            lt = from_task(t, arch=arch, shots=shots, seed=seed + i)
        else:  # not its repr: a tensor's fills the screen
            raise TaskError(f"a loop task is a task name, a Task, an Episode, a LoopTask or labelled examples (x, y); "
                            f"got {type(t).__name__}")
        if lt.num_classes < 2:
            raise TaskError(f"task {lt.name}: the loop needs at least 2 classes, got {lt.num_classes}")
        lt.check_disjoint()  # a LoopTask made by hand too: rewards never score data that conditioned the writer
        out.append(lt)
    if not out:
        raise TaskError("the loop needs at least one task")
    return out


def _is_examples(obj) -> bool:
    """``(x, y)``: a pair of arrays (tensors, numpy arrays), or inputs with a list of integer labels (as generate and
    verify take them: ``(x.tolist(), y.tolist())`` was refused as a list), not a pair of task specs."""
    import numpy as np

    if not (isinstance(obj, (tuple, list)) and len(obj) == 2):
        return False
    x, y = obj
    arrays = (Tensor, np.ndarray)
    # a list is no loop task: (x.tolist(), y) was "got list", and ([], []) or bool labels too (not from_examples' word)
    return (isinstance(x, arrays) and isinstance(y, arrays)
            or isinstance(x, (list, tuple)) and isinstance(y, arrays)
            or isinstance(x, (*arrays, list, tuple)) and isinstance(y, (list, tuple))
            and all(isinstance(v, numbers.Integral) for v in y))
