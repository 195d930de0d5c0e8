"""A zoo as a PyG ``Dataset`` of neural graphs with targets, split without leakage.

Splits are drawn over training *runs*, not networks: all checkpoints of a run (same seed, same data order, only
more epochs) land on the same side, so a model cannot score by recognising an earlier checkpoint of a test net.
The split is a seeded permutation of *all* the zoo's run ids, cut by ``fractions``, then the filters apply: a run's
side does not depend on the filters (nor differ from :mod:`metanet.reader`'s split with the same seed).

The permutation is drawn over the runs *present*: a zoo with fewer runs than its recipe's ``count`` (built with
``--limit`` or one ``--shard I/N``, or still building) splits differently from the finished zoo, and a run in its
test split can land in train once the build completes. Such a dataset warns once (a ``UserWarning`` naming how many
runs are missing); split a complete (merged) zoo for results that must stay leak-free over time.

Targets (``target=`` one name or a list of names; ``data.y`` is ``(1,)`` or ``(1, k)`` float, or a long class index
for ``task`` / ``activation`` / ``optimizer``):

- a column: ``test_acc``, ``val_acc``, ``train_acc``, ``test_loss``, ``epoch``;
- ``backdoor`` (1.0 poisoned, 0.0 clean), ``asr`` (0.0 for clean nets, NaN for a poisoned one whose rate is unknown:
  null in the index), ``backdoor_target`` (-1 for clean); these describe the run, so the epoch-0 checkpoint of a
  poisoned run (its untrained initialisation) is 1.0 too: filter ``epoch`` for a detector's labels (the reader's
  training leaves those checkpoints out of its backdoor loss);
- ``task`` (index into ``dataset.task_names``), ``activation`` (index into ``metanet.nets.ACTIVATIONS``),
  ``optimizer`` (index into ``metanet.zoo.recipe.OPTIMIZERS``);
- any numeric hyperparameter: ``lr``, ``log_lr`` (log10), ``weight_decay``, ``batch_size``, ``epochs``,
  ``init_scale``, ``dropout``, ``label_noise``, ``momentum`` (0.0 for adam and adamw runs), ``depth``, ``width``
  (the first hidden layer's: with the recipe's ``arch.same_width: false`` the others may differ).

Every graph also carries ``zoo_id``, ``run``, ``epoch`` and ``test_acc`` attributes.
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
import os
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Dataset

from metanet._state import user_stacklevel
from metanet.errors import ZooError, as_index, whole_number
from metanet.nets import ACTIVATIONS
from metanet.zoo.recipe import OPTIMIZERS
from metanet.zoo.zoo import _f

__all__ = ["ZooDataset", "split_runs", "TARGETS"]

SPLITS = ("train", "val", "test", "all")
_COLUMNS = ("test_acc", "val_acc", "train_acc", "test_loss", "epoch")
_HPARAMS = ("lr", "weight_decay", "batch_size", "epochs", "init_scale", "dropout", "label_noise", "momentum", "depth",
            "width")
_CLASSES = ("task", "activation", "optimizer")
TARGETS = (*_COLUMNS, "backdoor", "asr", "backdoor_target", *_CLASSES, *_HPARAMS, "log_lr")


def split_runs(runs: Sequence[int], fractions: tuple[float, float, float], seed: int) -> dict[str, set[int]]:
    """Assign runs to train/val/test by a seeded permutation (sizes ``round(cumulative fraction * n)``)."""
    try:
        fr = tuple(fractions) if not isinstance(fractions, str) else ()
    except TypeError:
        fr = ()
    ok = len(fr) == 3 and all(isinstance(f, numbers.Real) and not isinstance(f, bool) and f >= 0 for f in fr)
    if not ok or not math.isclose(sum(fr), 1.0, abs_tol=1e-6):
        raise ZooError(f"fractions {fractions!r:.80} must be three non-negative numbers summing to 1 (train, val, test)")
    # as floats: Fractions summed exactly and a run on a .5 boundary of the sizes went to the other split than with
    # the same floats (7/10, 2/10, 1/10 of 15 runs)
    fractions = tuple(float(f) for f in fr)
    if as_index(seed) is None or seed < 0:  # a 0-d torch integer too, as check_whole takes it
        raise ZooError(f"split seed {seed!r:.80} must be an integer >= 0")
    seed = as_index(seed)
    runs = sorted(set(runs))
    order = np.random.default_rng(seed).permutation(len(runs))
    a = round(fractions[0] * len(runs))
    b = round((fractions[0] + fractions[1]) * len(runs))
    pick = lambda lo, hi: {runs[i] for i in order[lo:hi]}  # noqa: E731
    return {"train": pick(0, a), "val": pick(a, b), "test": pick(b, len(runs))}


def _warn_if_incomplete(zoo: Any, runs: set[int]) -> None:
    """Warn, once per zoo and number of runs, that ``zoo`` holds fewer runs than its recipe: the split drawn over
    the runs present changes when the build completes (a test run can then land in train)."""
    try:
        planned = int(zoo._store.meta().get("count", ""))
    except (ValueError, ZooError):  # not recorded (an index written by another tool): nothing to compare with
        return
    missing = planned - len(runs)
    warned = zoo.__dict__.setdefault("_incomplete_warned", set())
    if missing <= 0 or len(runs) in warned:
        return
    warned.add(len(runs))
    warnings.warn(f"{zoo.path} holds {len(runs)} of its recipe's {planned} runs ({missing} missing: built with "
                  "--limit or one --shard I/N, or still building); the train/val/test split is drawn over the runs "
                  "present, so it will change when the build completes and a run now in val/test can land in train: "
                  "split the complete (merged) zoo for lasting results", UserWarning,
                  stacklevel=user_stacklevel())  # reached via Zoo.dataset, ZooDataset or the reader's data


def edge_width(nets: Any) -> int:
    """The widest ``edge_attr`` any architecture of ``nets`` (a zoo or its :class:`NetInfo` rows) needs: 1 for none
    or MLPs only, ``k*k`` with ``k x k`` convolutions. Graphs encoded with it batch together; from the plans alone."""
    from metanet.errors import ArchError, GraphError
    from metanet.graph.plan import plan

    width = 1
    for arch in {str(n.arch): n.arch for n in nets}.values():
        try:
            width = max(width, plan(arch.to_dict()).edge_dim)
        except (ArchError, GraphError, TypeError, ValueError):  # not encodable: get() names the problem
            continue
    return width


class ZooDataset(Dataset):
    """Neural graphs of a zoo's networks with targets (see the module docstring).

    Args:
        zoo: a :class:`~metanet.zoo.Zoo` (or its path).
        split: ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
        target: a target name or a list of names (:data:`TARGETS`).
        fractions: train/val/test fractions of the runs.
        seed: seed of the run permutation (over the runs present: a zoo with fewer runs than its recipe warns
            that its split will change when the build completes; see the module docstring).
        filters: keyword filters of :meth:`Zoo.select` applied first (e.g. ``task="mnist"``).
        transform: optional PyG transform applied on access.
        edge_dim: ``edge_attr`` width of every graph (:func:`metanet.graph.to_graph`); default: the widest any
            architecture of the zoo needs (1 for MLPs, ``k*k`` for ``k x k`` convolutions), so that the graphs of
            every split and filter share it and batch together (MLPs and CNNs in one ``DataLoader``).

    Indexing follows PyG's ``Dataset``: an integer (also a numpy integer or a 0-d array or tensor) gives a graph, a
    slice, list, integer tensor or array or a boolean mask (one entry per item) gives a subset sharing the zoo (a list of bools is a mask too, as for torch; a lone bool is
    refused), and :meth:`shuffle` a permuted one. ``nets``,
    ``ids`` and :meth:`target` describe the items of the subset, in its order. The dataset pickles (for
    ``DataLoader(num_workers=...)`` with the ``spawn`` / ``forkserver`` start methods): the zoo is reopened from
    its path. The items are fixed when the dataset is made: networks the zoo gains later (a build still running, a
    merge) are not in it, and nothing is cached on disk; make a new dataset to see them (its split may differ, see
    the module docstring).
    """

    def __init__(self, zoo: Any, split: str = "train", target: "str | Sequence[str]" = "test_acc",
                 fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0,
                 filters: dict[str, Any] | None = None, transform: Any = None, edge_dim: int | None = None) -> None:
        from metanet.zoo.zoo import Zoo

        if filters is not None and not isinstance(filters, dict):  # a string or list: dict() raised a bare ValueError
            raise ZooError(f"dataset filters {filters!r:.80} must be a dict of Zoo.select() filters, e.g. "
                           "{'task': 'digits'}")
        if transform is not None and not callable(transform):  # else a TypeError on first access (in a worker)
            raise ZooError(f"dataset transform {transform!r:.80} is not callable; give a PyG transform (a callable "
                           "taking and returning a graph) or None")
        filters = dict(filters or {})
        self.zoo = zoo if isinstance(zoo, Zoo) else Zoo(zoo)
        if not isinstance(split, str) or split not in SPLITS:  # a numpy array: `in` compares elementwise
            raise ZooError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
        try:
            self.targets = [target] if isinstance(target, str) else list(target)
        except TypeError:
            raise ZooError(f"dataset target {target!r:.80} is not a target name or a list of them; valid: "
                           f"{', '.join(TARGETS)}") from None
        for t in self.targets:
            if not isinstance(t, str) or t not in TARGETS:
                raise ZooError(f"unknown dataset target {t!r}; valid: {', '.join(TARGETS)}")
        if not self.targets:
            raise ZooError(f"give at least one target; valid: {', '.join(TARGETS)}")
        self.split = split
        self.task_names = self.zoo.tasks
        widest = edge_width(self.zoo)
        if edge_dim is not None:
            f = whole_number(edge_dim)
            if f is None or f < widest:
                raise ZooError(f"dataset edge_dim {edge_dim!r:.80} must be an integer >= {widest} (the widest edge "
                               "width an architecture of the zoo needs)")
            widest = f
        self.edge_dim = widest
        valid = [k for k in inspect.signature(Zoo.select).parameters if k != "self"]
        unknown = [k for k in filters if k not in valid]
        if unknown:  # a typo (zoo.dataset(splt="test")) was a TypeError about Zoo.select(), which it never called
            raise ZooError(f"unknown dataset argument or filter(s) {unknown}; valid: split, target, fractions, seed, "
                           f"transform, edge_dim and select()'s filters {', '.join(valid)}")
        nets = self.zoo.select(**filters)
        # split over every run of the zoo, not the filtered ones: a run's side must not depend on the filters, or
        # dataset("train", task=...) and dataset("test") share runs (and disagree with metanet.reader's split)
        runs = {n.run for n in self.zoo}
        sides = split_runs(runs, fractions, seed)
        if split != "all":
            _warn_if_incomplete(self.zoo, runs)
        self.nets = nets if split == "all" else [n for n in nets if n.run in sides[split]]
        super().__init__(None, transform)

    @property
    def raw_file_names(self) -> list[str]:
        """PyG hook: none (the zoo is read where it is; nothing is downloaded)."""
        return []

    @property
    def processed_file_names(self) -> list[str]:
        """PyG hook: none (graphs are encoded on access; nothing is processed to disk)."""
        return []

    @property
    def nets(self) -> list[Any]:
        """The :class:`~metanet.zoo.NetInfo` rows of the items, in item order (of the subset, for a subset)."""
        if getattr(self, "_indices", None) is None:
            return self._nets
        return [self._nets[i] for i in self._indices]

    @nets.setter
    def nets(self, nets: Sequence[Any]) -> None:
        self._nets = list(nets)
        self._indices = None

    @property
    def ids(self) -> list[int]:
        """Zoo ids of the items, in item order."""
        return [n.id for n in self.nets]

    def len(self) -> int:
        """PyG hook: the number of networks of the whole dataset (``len(dataset)`` counts a subset's)."""
        # PyG's raw length: get(idx) takes indices into all of the dataset's networks, not into a subset
        return len(self._nets)

    @property
    def num_classes(self) -> int:
        """For a class target (``task``, ``activation``, ``optimizer``) the size of its label space, the same for
        every split and filter (PyG's ``1 + max label`` would differ between splits); else as PyG infers it, and 0
        for an empty dataset (PyG's value for no labels; its own inference raised a bare IndexError)."""
        if len(self.targets) == 1 and self.targets[0] in _CLASSES:
            return {"task": len(self.task_names), "activation": len(ACTIVATIONS), "optimizer": len(OPTIMIZERS)}[
                self.targets[0]]
        if len(self) == 0:
            return self._infer_num_classes(None)
        return super().num_classes

    def _position(self, idx: Any) -> int:
        """An item index as an int in ``0 .. len - 1`` (negative ones count from the end); a clear IndexError."""
        n = len(self)
        if (isinstance(idx, (bool, np.bool_)) or (isinstance(idx, Tensor) and idx.dtype == torch.bool)
                or (isinstance(idx, np.ndarray) and idx.dtype == bool)):
            # a lone bool is not a position (True read as item 1, silently); masks select subsets
            raise IndexError(f"a boolean {idx!r:.40} is not a dataset index; select with an integer, or with a "
                             f"boolean mask of {n} entries (one per network)")
        try:
            i = operator.index(idx)
        except TypeError:
            raise TypeError(f"dataset indices must be integers, got {idx!r:.80}") from None
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a dataset of {n} networks"
                             + (f" (valid: {-n}..{n - 1})" if n else " (it is empty)"))
        return i % n

    def __getitem__(self, idx: Any) -> Any:
        if (isinstance(idx, (int, np.integer)) or (isinstance(idx, Tensor) and idx.dim() == 0)
                or (isinstance(idx, np.ndarray) and idx.ndim == 0)):  # np.isscalar(np.array(2)) is False
            idx = self._position(idx)
        return super().__getitem__(idx)

    def index_select(self, idx: Any) -> "ZooDataset":
        """A subset (PyG semantics); out-of-range indices and masks of the wrong length are IndexErrors."""
        # PyG takes int64 only: an int32 array or tensor (np.arange(n, dtype=np.int32), randperm(dtype=int32)) was
        # refused; torch's uint8 stays refused (torch reads it as a mask)
        if isinstance(idx, np.ndarray) and idx.dtype.kind in "iu" and idx.dtype != np.int64:
            idx = idx.astype(np.int64)
        if (isinstance(idx, Tensor) and idx.dtype in (torch.int8, torch.int16, torch.int32)):
            idx = idx.long()
        if ((isinstance(idx, Tensor) and idx.dtype == torch.bool)
                or (isinstance(idx, np.ndarray) and idx.dtype == bool)):
            size = int(idx.numel()) if isinstance(idx, Tensor) else int(idx.size)
            if size != len(self):  # PyG would silently take a short mask as a prefix
                raise IndexError(f"a boolean mask of {size} entries does not fit a dataset of {len(self)} networks")
        if isinstance(idx, Sequence) and not isinstance(idx, str) and len(idx) and all(
                isinstance(i, (bool, np.bool_)) for i in idx):
            # a list of bools is a mask (as for torch and numpy); PyG read it as positions 1 and 0, silently
            idx = torch.tensor([bool(i) for i in idx])
            if len(idx) != len(self):
                raise IndexError(f"a boolean mask of {len(idx)} entries does not fit a dataset of {len(self)} networks")
        if isinstance(idx, Sequence) and not isinstance(idx, str):
            for i in idx:
                self._position(i)
        return super().index_select(idx)

    def __copy__(self) -> "ZooDataset":
        # shallow, sharing the zoo (PyG's index_select copies the dataset for every subset); without this, copy
        # would go through __getstate__ and reopen the zoo
        out = self.__class__.__new__(self.__class__)
        out.__dict__.update(self.__dict__)
        return out

    def __getstate__(self) -> dict[str, Any]:
        # the zoo's SQLite connection cannot be pickled: keep its path, reopen it in __setstate__
        state = dict(self.__dict__)
        # absolute: a zoo opened by a relative path did not reopen after a chdir (a worker, a Hydra run dir)
        state["zoo"] = os.path.abspath(self.zoo.path)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from metanet.zoo.zoo import Zoo

        state = dict(state)
        if not isinstance(state.get("zoo"), Zoo):
            state["zoo"] = Zoo(state["zoo"])
        self.__dict__.update(state)

    def _value(self, n: Any, t: str) -> float:
        if t in _COLUMNS:
            return float(getattr(n, t))
        if t == "backdoor":
            return float(n.backdoor is not None)
        if t == "asr":
            # a poisoned net's rate written as null (not finite when measured) is unknown, NaN, as a null column
            # is: `or 0.0` made it a false 0.0 ("the attack failed"), while the same rate stored as NaN stayed NaN
            return _f(n.backdoor.get("asr")) if n.backdoor else 0.0
        if t == "backdoor_target":
            return float(n.backdoor["target"]) if n.backdoor else -1.0
        if t == "task":
            return float(self.task_names.index(n.task))
        if t == "activation":
            return float(list(ACTIVATIONS).index(n.arch.activation))
        if t == "optimizer":
            return float(OPTIMIZERS.index(n.hparams["optimizer"]))
        if t == "log_lr":
            return math.log10(n.hparams["lr"])
        return float(n.hparams.get(t, 0.0))

    def target(self, i: int) -> torch.Tensor:
        """The target tensor of item ``i`` (without building its graph); ``i`` counts in this (sub)set's order."""
        return self._target(self._nets[self.indices()[self._position(i)]])

    def _target(self, n: Any) -> torch.Tensor:
        vals = [self._value(n, t) for t in self.targets]
        if len(vals) == 1:
            if self.targets[0] in _CLASSES:
                return torch.tensor([int(vals[0])], dtype=torch.long)
            return torch.tensor([vals[0]], dtype=torch.float32)
        return torch.tensor([vals], dtype=torch.float32)

    def get(self, idx: int):
        """PyG hook: the :class:`~metanet.graph.NeuralGraph` of network ``idx`` (an index into the whole
        dataset), with its target ``y`` and ``zoo_id``, ``run``, ``epoch``, ``test_acc``.
        """
        from metanet.graph import to_graph

        n = self._nets[idx]  # a raw index (PyG maps a subset's positions through indices() first)
        g = to_graph(self.zoo.load(n.id), edge_dim=self.edge_dim)
        g.y = self._target(n)
        g.zoo_id = torch.tensor([n.id])
        g.run = torch.tensor([n.run])
        g.epoch = torch.tensor([n.epoch])
        g.test_acc = torch.tensor([n.test_acc], dtype=torch.float32)
        return g
