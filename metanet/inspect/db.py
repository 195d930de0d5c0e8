"""`NeuronDB`: one row per hidden neuron (what it reads, how it fires, what it is needed for), stored as SQLite
(``neurons.sqlite``) with a human-readable ``INDEX.md`` that says, section by section, what the network does.

Tables of ``neurons.sqlite``:

- ``neurons``: one row per hidden neuron, primary key ``(layer, idx)``; the columns are :data:`COLUMNS`
  (list-valued columns hold JSON).
- ``ablation``: long form of the ablation matrix, ``(layer, idx, class, delta)``: the change in that class's
  accuracy when the neuron is zeroed (``SELECT layer, idx FROM ablation WHERE class = 8 AND delta < -0.05``).
- ``meta``: ``(key, value)`` with JSON values: network, task, split, accuracy, per-class accuracy, class
  names, thresholds, reader status.
- ``columns``: ``(name, type, meaning)``, one row per column of ``neurons`` (:data:`COLUMNS`), so the file says
  what its figures are (``SELECT meaning FROM columns WHERE name = 'selectivity'``).
"""

from __future__ import annotations

import errno
import json
import math
import operator
import os
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import Tensor

from metanet.errors import ArchError, ConfigError, FileFormatError, TaskError, whole_number
from metanet.io import _make_dir, _not_dir_syntax, _path, atomic_write, json_safe

__all__ = ["NeuronDB", "COLUMNS"]

#: selectivity from which a neuron counts as selective: both its INDEX.md group (:meth:`NeuronDB.groups`) and its
#: description "fires on c" use it (the description had its own bar, 0.3: "unselective; ...; fires on c")
SELECTIVE = 0.5


def _db_path(path: object, what: str, valid: str) -> Path:
    """``path`` as a Path, ``~`` expanded (as metanet.save and load do: a folder named '~' was created), or a
    FileFormatError for no path at all (a raw TypeError) or an empty one (save('') wrote into the working directory,
    load('') read whatever database it held)."""
    return _path(path, not_a_path=lambda p: f"{what} must be a path (str, bytes or os.PathLike), got "
                                            f"{type(p).__name__}",
                 empty=lambda p: f"{what} is empty ({p!r}); give {valid}")


#: column -> (SQL type, meaning). Deltas are fractions (accuracy 0.91 -> 0.85 is -0.06).
COLUMNS: dict[str, tuple[str, str]] = {
    "layer": ("INTEGER", "neuron layer (input = 0, first hidden = 1, as in the neural graph); weights in: weight layer "
                         "layer-1 (metanet's MLP and CNN: layers.{layer-1}.weight; any network: the 'weight' of the "
                         "layer in meta's layer_info)"),
    "idx": ("INTEGER", "unit / channel index within the layer"),
    "kind": ("TEXT", "'unit' (MLP) or 'channel' (CNN)"),
    "fan_in": ("INTEGER", "incoming connections (kernel entries for a channel)"),
    "in_norm": ("REAL", "L2 norm of the incoming weights (bias excluded)"),
    "out_norm": ("REAL", "L2 norm of the outgoing weights (every layer that reads the neuron)"),
    "bias": ("REAL", "bias (NULL without biases)"),
    "act_mean": ("REAL", "mean output on the split (channels: averaged over space)"),
    "act_std": ("REAL", "standard deviation of the output over examples (channels: of the spatial mean)"),
    "act_max": ("REAL", "largest output on the split (channels: largest spatial mean)"),
    "frac_active": ("REAL", "fraction of examples with output > 0 (channels: spatial mean > 0)"),
    "dead": ("INTEGER", "1 when the output is constant on the split (never active, for ReLU; channels: the same value "
                         "at every position of every example)"),
    "top_class": ("INTEGER", "class with the highest mean output"),
    "selectivity": ("REAL", "(mean on top class - mean on the others) / (|both| summed), in [-1, 1]"),
    "class_means": ("TEXT", "JSON: mean output per class"),
    "ablation_acc": ("REAL", "change of overall accuracy when the neuron is zeroed"),
    "ablation_loss": ("REAL", "change of the mean cross-entropy when the neuron is zeroed (when the network's loss "
                              "is inf: -inf where zeroing makes it finite again, NULL where it stays inf)"),
    "ablation_per_class": ("TEXT", "JSON: change of each class's accuracy when the neuron is zeroed"),
    "supports": ("TEXT", "JSON: classes whose accuracy drops by at least the support threshold, and by at least two "
                         "of their examples, when zeroed"),
    "support_strength": ("REAL", "largest drop of one class's accuracy when zeroed (>= 0)"),
    "writes_to": ("INTEGER", "class whose logit its outgoing weight raises most (neurons the output layer reads: "
                             "the last hidden layer's, and on a residual MLP those of every layer whose stream "
                             "reaches it; a NaN weight raises none: NULL when all of them are NaN or 0)"),
    "polysemanticity": ("REAL", "0 = its top-activating examples share one class, 1 = spread evenly over all (only "
                                "those above its lowest output count: a ReLU's ties at 0 are not top-activating)"),
    "top_examples": ("TEXT", "JSON: indices (into the split) of its top-activating examples"),
    "outlier": ("REAL", "largest robust z-score within its layer of weight norms and activation tail"),
    "description": ("TEXT", "what its input weights look for (first layer on images) or the class it fires on "
                            f"(when selectivity >= {SELECTIVE})"),
    "role": ("TEXT", "role predicted by the reader (NULL when no reader is available, and for a CNN's channels); on "
                     "a residual MLP's skip layer, the role of the stream position the unit adds to (metanet.reader."
                     "roles), not of its own output"),
    "nonfinite": ("TEXT", "which of its numbers are NaN or inf, e.g. 'NaN incoming weights, NaN outputs' (NULL when "
                          "all are finite)"),
}
_JSON = {"class_means", "ablation_per_class", "supports", "top_examples"}
#: figures SQLite stores as NULL when they are NaN (a network with a NaN weight), read back as NaN: None broke the
#: text of a reopened database ('in/out norm {None:.2f}'); a NULL bias is no bias
_NAN_IF_NULL = {k for k, (t, _) in COLUMNS.items() if t == "REAL" and k != "bias"}

#: robust z-score above which a neuron is listed as an outlier
OUTLIER_Z = 4.0


def _json(v: Any) -> str:
    """``v`` as strict JSON, NaN and ±inf as null (a diverged network's loss of ``inf`` was written as the invalid
    ``Infinity``, which SQLite's json functions and other languages' parsers reject); :meth:`NeuronDB.load` reads
    null back as NaN where a number is expected."""
    return json.dumps(_jsonable(v), allow_nan=False)


#: NaN and ±inf as None, in nested lists and dicts (the one helper, metanet.io's; a name of its own here because
#: tests stop a write halfway by replacing it)
_jsonable = json_safe


#: SQLite's messages for a file system that refuses the write (full, failing, read-only)
_DISK_MESSAGES = ("full", "disk I/O error", "readonly", "unable to open")


class NeuronDB:
    """What every hidden neuron of a network does on a task (see the module docstring for the columns).

    Build one with :func:`metanet.inspect.inspect`; reopen a saved one with :meth:`load`.

    Attributes:
        rows: one dict per neuron (keys: :data:`COLUMNS`), ordered by ``(layer, idx)``.
        meta: ``network`` (its architecture), ``family``, ``task``, ``split``, ``n`` (examples), the network's
            ``accuracy``, ``loss`` and ``per_class`` accuracy there, ``class_names``, ``input_shape``,
            ``support_threshold``, ``reader`` (the reader's status), ``layer_info`` (each hidden layer's width,
            activation and parameter names), ``seconds``; ``nonfinite_params`` only when a tensor no neuron's row
            covers holds NaN or inf.
    """

    def __init__(self, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        self.rows = sorted(rows, key=lambda r: (r["layer"], r["idx"]))
        for r in self.rows:
            r.setdefault("nonfinite", None)  # a database written before the column existed: all finite, as it was
        self.meta = meta
        self._at = {(r["layer"], r["idx"]): r for r in self.rows}

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        try:  # whole_number, not int(): (1.9, 0) is no neuron, not neuron (1, 0)
            return self._at[(whole_number(key[0]), whole_number(key[1]))]
        except (KeyError, TypeError, IndexError):
            raise KeyError(f"no neuron {key!r}; layers: {self.layers}") from None

    def __repr__(self) -> str:
        return (f"NeuronDB({self.meta.get('network')!r} on {self.meta.get('task')!r}/{self.meta.get('split')}: "
                f"{len(self)} neurons in layers {self.layers})")

    @property
    def layers(self) -> list[int]:
        """The hidden layers in the database (neural-graph numbering: first hidden = 1), sorted."""
        return sorted({r["layer"] for r in self.rows})

    @property
    def class_names(self) -> list[str]:
        """The task's class names (label order; empty when the database does not record them)."""
        return list(self.meta.get("class_names") or [])

    def layer(self, index: int) -> list[dict[str, Any]]:
        """The rows of the neurons of layer ``index``, by neuron index (``[]`` for a layer not in the database)."""
        return [r for r in self.rows if r["layer"] == index]

    def ablation_matrix(self, layer: int) -> Tensor:
        """``(H, C)``: change in each class's accuracy when each neuron of ``layer`` is zeroed.

        Raises:
            ArchError: ``layer`` is not a layer of the database (an empty tensor read as "no neurons matter").
        """
        rows = self.layer(layer)
        if not rows:
            raise ArchError(f"layer {layer!r} is not a hidden layer of this database; its layers: {self.layers}")
        return torch.tensor([[math.nan if v is None else v for v in r["ablation_per_class"]] for r in rows])

    def column(self, name: str, layer: int | None = None) -> list[Any]:
        """The values of column ``name`` (see :data:`COLUMNS`), of every neuron or of ``layer``'s.

        Raises:
            ConfigError: an unknown column (the message lists them).
        """
        if name not in COLUMNS:
            raise ConfigError(f"no column {name!r} in the neuron database; columns: {', '.join(COLUMNS)}")
        rows = self.rows if layer is None else self.layer(layer)
        return [r[name] for r in rows]

    def supporting(self, cls: int) -> list[tuple[int, int]]:
        """Neurons ``(layer, idx)`` that support class ``cls`` (zeroing one alone costs it at least the support
        threshold and two of its examples: the ``supports`` column), strongest first.

        Raises:
            TaskError: ``cls`` is not a class of the task (an empty list would read as "nothing depends on it").
        """
        k = len(self.meta.get("per_class") or self.class_names)
        try:
            ok = not isinstance(cls, bool) and 0 <= operator.index(cls) < k
        except TypeError:
            ok = False
        if not ok:  # [] would read as "nothing depends on this class"
            raise TaskError(f"class {cls!r} does not exist: the task has classes 0..{k - 1}")
        cls = operator.index(cls)
        hits = [r for r in self.rows if cls in r["supports"]]
        hits.sort(key=lambda r: r["ablation_per_class"][cls])
        return [(r["layer"], r["idx"]) for r in hits]

    def outliers(self, z: float = OUTLIER_Z) -> list[tuple[int, int]]:
        """Neurons ``(layer, idx)`` whose ``outlier`` score (a robust z-score within their layer) is at least ``z``."""
        return [(r["layer"], r["idx"]) for r in self.rows if (r["outlier"] or 0) >= z]

    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        """Run a read-only SQL query against the tables of ``neurons.sqlite`` (in memory).

        Raises:
            ConfigError: SQL that fails (a syntax error, an unknown table or column, a statement that writes); the
                message names the tables.
        """
        con = sqlite3.connect(":memory:")
        try:
            self._fill(con)
            con.execute("PRAGMA query_only = ON")  # read-only, as promised
            con.row_factory = sqlite3.Row
            try:
                return [dict(r) for r in con.execute(sql, params).fetchall()]
            except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as e:
                raise ConfigError(f"SQL query failed ({type(e).__name__}: {e}); tables: neurons (columns: "
                                  f"{', '.join(COLUMNS)}), ablation (layer, idx, class, delta), meta (key, value), "
                                  "columns (name, type, meaning)") from None
        finally:
            con.close()

    # ------------------------------------------------------------------ storage
    def _fill(self, con: sqlite3.Connection) -> None:
        cols = ", ".join(f"{k} {t}" for k, (t, _) in COLUMNS.items())
        con.execute(f"CREATE TABLE neurons ({cols}, PRIMARY KEY (layer, idx))")
        con.execute("CREATE TABLE ablation (layer INTEGER, idx INTEGER, class INTEGER, delta REAL, "
                    "PRIMARY KEY (layer, idx, class))")
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("CREATE TABLE columns (name TEXT PRIMARY KEY, type TEXT, meaning TEXT)")
        names = list(COLUMNS)
        con.executemany(
            f"INSERT INTO neurons VALUES ({', '.join('?' * len(names))})",
            [[_json(r[k]) if k in _JSON else r[k] for k in names] for r in self.rows],
        )
        con.executemany(
            "INSERT INTO ablation VALUES (?, ?, ?, ?)",
            [(r["layer"], r["idx"], c, d) for r in self.rows for c, d in enumerate(_jsonable(r["ablation_per_class"]))],
        )
        con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, _json(v)) for k, v in self.meta.items()])
        con.executemany("INSERT INTO columns VALUES (?, ?, ?)", [(k, t, self._meaning(k, m)) for k, (t, m) in
                                                                COLUMNS.items()])
        con.commit()

    def _weight_names(self) -> dict[int, str]:
        """``{layer: name of its incoming weight}`` as the network names it (meta's layer_info; a database written
        before it recorded them: ``layers.{layer-1}.weight`` for metanet's families, nothing for others)."""
        info = self.meta.get("layer_info") or {}
        out = {}
        for layer in self.layers:
            name = (info.get(str(layer)) or {}).get("weight") if isinstance(info, dict) else None
            if name is None and self.meta.get("family") in ("mlp", "cnn"):
                name = f"layers.{layer - 1}.weight"
            if isinstance(name, str):
                out[layer] = name
        return out

    def _meaning(self, column: str, meaning: str) -> str:
        """The ``columns`` table's meaning of ``column``: for ``layer``, with this network's own weight names (an
        nn.Sequential's are '1.weight' or 'fc1.weight', not 'layers.0')."""
        names = self._weight_names()
        if column != "layer" or not names:
            return meaning
        return (meaning.split("; weights in:")[0] + "; weights in: "
                + ", ".join(f"layer {l}: {n}" for l, n in names.items()))

    def to_sqlite(self, path: str | os.PathLike) -> Path:
        """Write ``neurons.sqlite`` (atomically: a temporary file renamed into place; a symbolic link is written
        through, as :func:`metanet.save` does)."""
        dest = _db_path(path, "the database file", "a file path such as 'out/neurons.sqlite'")
        _not_dir_syntax(path)
        return atomic_write(dest, self._write_sqlite)

    def _write_sqlite(self, tmp: str) -> None:
        """Write the database into the new file ``tmp``; a refused write is an OSError naming it."""
        con = sqlite3.connect(tmp)
        try:
            self._fill(con)
        except sqlite3.OperationalError as e:  # a full disk was a traceback of 'database or disk is full'
            if not any(m in str(e) for m in _DISK_MESSAGES):
                raise  # a bug ('no such table'), not the file system: its traceback, not a one-line disk error
            # SQLite's "disk I/O error" is any refused write but ENOSPC: without its likely causes (as the zoo
            # index's message gives them) it read as a broken disk
            why = (": the file system refused the write, e.g. a disk quota or file size limit reached or a "
                   "failing disk; fix that and run again") if "disk I/O error" in str(e) else ""
            raise OSError(errno.ENOSPC if "full" in str(e) else errno.EIO,
                          f"cannot write the database ({e}{why})", tmp) from None
        finally:
            con.close()

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``neurons.sqlite`` and ``INDEX.md`` into ``out_dir`` (together: a write refused part-way, e.g. by a
        full disk, leaves both files as they were; ``~`` is the home folder, the directory is created if missing).

        Raises:
            FileFormatError: ``out_dir`` is empty or no path at all.
            OSError: ``out_dir`` cannot be written (an existing file, under a file, no permission).
        """
        out = _db_path(out_dir, "the output directory", "a directory such as 'out/' (created if missing)")
        _make_dir(out, "give a new or existing directory for neurons.sqlite and INDEX.md")
        text = self.index_md()  # before either file is written
        idx = out / "INDEX.md"

        def write(tmp: str) -> None:
            # the database into its temporary, INDEX.md into place, then the database: a full disk on either changes
            # neither (written one after the other, it left the new database beside the last run's INDEX.md)
            self._write_sqlite(tmp)
            atomic_write(idx, lambda t: Path(t).write_text(text, encoding="utf-8"))

        db = atomic_write(out / "neurons.sqlite", write)
        return {"sqlite": db, "index": idx}

    @classmethod
    def load(cls, path: str | os.PathLike) -> "NeuronDB":
        """Open a saved database (the ``neurons.sqlite`` file or the directory holding it; ``~`` is the home
        folder)."""
        p = _db_path(path, "the neuron database path", "a neurons.sqlite file or the directory holding it")
        if p.is_dir():
            p = p / "neurons.sqlite"
        if not p.is_file():
            raise FileFormatError(f"{p}: no such file; expected a neurons.sqlite written by metanet inspect")
        try:
            # as_uri() percent-encodes the path: a '#', '?' or '%' in it would otherwise end or change the URI (and
            # drop mode=ro: sqlite created a new, empty database at the truncated path)
            con = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
            con.row_factory = sqlite3.Row
            try:
                # a view (an endless WITH RECURSIVE one grew without bound, then a raw MemoryError) is not ours
                kinds = dict(con.execute("SELECT lower(name), type FROM sqlite_master WHERE type IN ('table', "
                                         "'view') AND lower(name) IN ('neurons', 'meta')").fetchall())
                for name in ("neurons", "meta"):
                    if kinds.get(name) != "table":
                        raise sqlite3.DatabaseError(f"{name} is a {kinds[name]}, not a table" if name in kinds
                                                    else f"no such table: {name}")
                rows = [dict(r) for r in con.execute("SELECT * FROM neurons")]
                meta = {r["key"]: json.loads(r["value"]) for r in con.execute("SELECT key, value FROM meta")}
            finally:
                con.close()
            for r in rows:
                for k in _JSON:
                    r[k] = json.loads(r[k]) if r.get(k) is not None else None
                r["ablation_per_class"] = [math.nan if v is None else v for v in r["ablation_per_class"]]
                r.update({k: math.nan for k in _NAN_IF_NULL if k in r and r[k] is None})
                r["class_means"] = [math.nan if v is None else v for v in r["class_means"]]
        except (sqlite3.DatabaseError, json.JSONDecodeError, KeyError, TypeError, RecursionError) as e:
            raise FileFormatError(f"{p} is not a neuron database written by metanet inspect ({type(e).__name__}: {e})"
                                  ) from None
        return cls(rows, meta)

    # ------------------------------------------------------------------ INDEX.md
    def _cls(self, c: int) -> str:
        names = self.class_names
        name = names[c] if c < len(names) else str(c)
        return str(c) if name == str(c) else f"{c} ({name})"

    def _classes(self, cs) -> str:
        return ", ".join(self._cls(c) for c in cs)

    def groups(self, layer: int) -> list[dict[str, Any]]:
        """The neurons of ``layer`` grouped by what they do, most important first.

        A neuron that supports classes joins the group of the class it supports most (the largest drop when
        it is zeroed); one that supports none joins the group of the class it fires on most if it is selective
        (selectivity >= 0.5), else the unselective group; dead neurons form their own group. Each group:
        ``kind`` (``support`` / ``selective`` / ``unselective`` / ``dead``), ``classes`` (the group's class
        first, then the other classes its members support, most frequent first), ``neurons``, ``rows``.
        """
        by: dict[tuple, list[dict]] = defaultdict(list)
        for r in self.layer(layer):
            if r["dead"]:
                key = ("dead", None)
            elif r["supports"]:
                apc = r["ablation_per_class"]
                key = ("support", min(r["supports"], key=lambda c: apc[c]))
            elif r["selectivity"] is not None and r["selectivity"] >= SELECTIVE:
                key = ("selective", r["top_class"])
            else:
                key = ("unselective", None)
            by[key].append(r)
        order = {"support": 0, "selective": 1, "unselective": 2, "dead": 3}
        groups = []
        for (kind, cls), rs in by.items():
            rs.sort(key=lambda r: -r["support_strength"])
            also = Counter(c for r in rs for c in r["supports"] if c != cls)
            classes = ([cls] if cls is not None else []) + [c for c, _ in also.most_common()]
            groups.append({"kind": kind, "classes": classes, "neurons": sorted(r["idx"] for r in rs), "rows": rs})
        groups.sort(key=lambda g: (order[g["kind"]], -g["rows"][0]["support_strength"], g["classes"]))
        return groups

    @staticmethod
    def _below_bar(rows: list[dict[str, Any]]) -> str:
        """What zeroing one neuron of a group that supports no class costs, as measured: below the support bar is
        not nothing (one example of a 35-example class is 2.9 points, over a 2-point threshold)."""
        worst = max(-min((d for d in r["ablation_per_class"] if not math.isnan(d)), default=0.0) for r in rows)
        if worst <= 0:
            return "costs no class any accuracy"
        return f"costs no class enough to count as support (at most {100 * worst:.1f} points of one class)"

    def group_line(self, layer: int, g: dict[str, Any]) -> str:
        """One line of ``INDEX.md`` (Markdown) saying what the neurons of group ``g`` (one of :meth:`groups` of
        ``layer``) do."""
        ns, rows, cls = g["neurons"], g["rows"], g["classes"]
        head = f"layer {layer}, {'neuron' if len(ns) == 1 else 'neurons'} {', '.join(map(str, ns))}"
        one = "it" if len(ns) == 1 else "one"
        if g["kind"] == "support":
            # the drop of the class named (support_strength is the largest drop of any class, maybe another one)
            drop = max(-r["ablation_per_class"][cls[0]] for r in rows)
            tail = (f"support {self._cls(cls[0])} — zeroing {one} costs class {self._cls(cls[0])} up to "
                    f"{100 * drop:.1f} points")
            also = Counter(c for r in rows for c in r["supports"] if c != cls[0])
            if also:
                extra = [f"{self._cls(c)}" + (f" ({k} of them)" if len(ns) > 1 else "") for c, k in also.most_common(4)]
                tail += "; also " + ", ".join(extra) + (", ..." if len(also) > 4 else "")
        elif g["kind"] == "selective":
            tail = (f"fire most on {self._cls(cls[0])} (selectivity up to "
                    f"{max(r['selectivity'] for r in rows):.2f}), but zeroing {one} alone {self._below_bar(rows)}: "
                    "redundant")
        elif g["kind"] == "unselective":
            tops = Counter(r["top_class"] for r in rows if r["top_class"] is not None)
            tail = f"unselective; zeroing {one} alone {self._below_bar(rows)}" + (
                f" (most active on {self._classes([c for c, _ in tops.most_common(5)])})" if tops else "")
        else:
            # removing zeroes the output: exact only for a constant 0 (a never-active ReLU); another constant is
            # something the next layer reads, like a bias, and removing it may cost accuracy
            const = [r for r in rows if abs(r["act_mean"]) > 1e-6]
            # a constant no layer reads (zero outgoing weights: a sigmoid neuron removed still outputs 0.5) is safe to
            # remove too; it was said to be read "like a bias" and to be clamped
            unread = [r for r in const if r["out_norm"] == 0]
            if not const:
                tail = "dead on the task data (constant output 0): safe to remove"
            elif len(unread) == len(const):
                tail = (f"dead on the task data ({'constant output 0, or ' if len(const) < len(rows) else ''}a "
                        "constant output that no layer reads: zero outgoing weights): safe to remove")
            else:
                # membership by identity, in sets: `r not in list` compared rows pairwise (a group of 16,000 dead
                # neurons took 50 s); both lists are filters of `rows`, so equal rows fall on the same side anyway
                unread_ids = {id(r) for r in unread}
                const = [r for r in const if id(r) not in unread_ids]
                const_ids = {id(r) for r in const}
                cost = max(0.0, -min(r["ablation_acc"] for r in const))
                zero = [str(r["idx"]) for r in rows if id(r) not in const_ids]
                who = ("it outputs" if len(ns) == 1 else f"neuron {const[0]['idx']} outputs" if len(const) == 1
                       else f"neurons {', '.join(str(r['idx']) for r in const)} output")
                # the ones that do output 0 are still safe to remove: say so, not only what the others need
                zeros = (f"{'neuron' if len(zero) == 1 else 'neurons'} {', '.join(zero)} "
                         f"{'outputs' if len(zero) == 1 else 'output'} 0"
                         f"{(' or is' if len(zero) == 1 else ' or are') + ' read by no layer' if unread else ''} "
                         "(safe to remove); ") if zero else ""
                tail = (f"dead on the task data (constant output); {zeros}{who} a nonzero constant (up to "
                        f"{max(abs(r['act_mean']) for r in const):.3g}), which the next layer reads like a bias: clamp "
                        f"{'it' if len(const) == 1 else 'them'} to that value rather than remove "
                        f"(zeroing costs up to {100 * cost:.1f} points)")
        owner = next((r for r in rows if r["description"]), None)
        if owner is not None:
            desc = owner["description"]
            # another member's description names that member: said bare, it read as the whole group's (a dead neuron
            # with all-zero weights 'looks for dark pixels at the top left')
            tail += (f"; {desc}" if len(ns) == 1 else f"; strongest ({owner['idx']}) {desc}" if owner is rows[0]
                     else f"; neuron {owner['idx']} {desc}")
        roles = sorted({r["role"] for r in rows if r.get("role")})
        if roles:
            tail += f"; reader: {', '.join(roles)}"
        return f"- **{head}**: {tail}"

    def _neuron_line(self, r: dict[str, Any]) -> str:
        apc = r["ablation_per_class"]
        drops = sorted(((d, c) for c, d in enumerate(apc) if not math.isnan(d) and d < 0))[:3]
        drop_s = ", ".join(f"{self._cls(c)} {100 * d:+.1f}" for d, c in drops) or "none"
        parts = [
            f"neuron {r['idx']}: zeroing costs {drop_s} (overall {100 * r['ablation_acc']:+.1f} pts)",
            f"active {100 * r['frac_active']:.0f}%",
            f"top class {self._cls(r['top_class'])} (sel {r['selectivity']:.2f})" if r["top_class"] is not None else "",
            f"poly {r['polysemanticity']:.2f}",
            f"in/out norm {r['in_norm']:.2f}/{r['out_norm']:.2f}",
        ]
        if r["writes_to"] is not None:
            parts.append(f"raises logit {self._cls(r['writes_to'])}")
        if r.get("role"):
            parts.append(f"reader: {r['role']}")
        return "  - " + "; ".join(p for p in parts if p)

    def nonfinite_lines(self) -> list[str]:
        """What is not finite in the network, for the top of ``INDEX.md`` and ``metanet inspect``'s output: one
        line per neuron with NaN/inf weights (``"layer 1, neuron 3: NaN incoming weights, NaN outputs"``), one per
        layer for the neurons whose outputs only are (their inputs carry it, or an overflow), and what a loss of inf
        means for ``ablation_loss``. ``[]`` for a network whose numbers are all finite."""
        def own(r: dict[str, Any]) -> bool:  # its own weights or bias (not only its outputs)
            return any(w in r["nonfinite"] for w in ("weights", "bias"))

        lines = [f"layer {r['layer']}, neuron {r['idx']}: {r['nonfinite']}" for r in self if r["nonfinite"] and own(r)]
        for layer in self.layers:
            only = [r for r in self.layer(layer) if r["nonfinite"] and not own(r)]
            if only:
                ns = [str(r["idx"]) for r in only]
                kinds = sorted({r["nonfinite"] for r in only})
                lines.append(f"layer {layer}, {'neuron' if len(ns) == 1 else 'neurons'} {', '.join(ns[:12])}"
                             f"{f', ... ({len(ns)} in all)' if len(ns) > 12 else ''}: {'; '.join(kinds)} (own "
                             "weights finite: from an earlier layer, or an overflow)")
        loose = self.meta.get("nonfinite_params") or {}
        lines += [f"parameter {n} (no hidden neuron's): {k}" for n, k in loose.items()]
        loss = self.meta.get("loss", 0.0)
        if loss is None or (isinstance(loss, float) and not math.isfinite(loss)):  # null once saved: NaN or inf
            fixes = [f"layer {r['layer']}, neuron {r['idx']}" for r in self if r["ablation_loss"] == -math.inf]
            lines.append("the loss on this split is not finite (NaN or inf logits), so `ablation_loss` is -inf where "
                         "zeroing one neuron makes it finite again and NaN (NULL) where it stays non-finite; the "
                         "accuracy effects are measured as usual" + (
                             f"; zeroing {'; '.join(fixes[:8])}{'; ...' if len(fixes) > 8 else ''} alone makes it "
                             "finite again" if fixes else "; zeroing no single neuron makes it finite"))
        return lines

    def index_md(self) -> str:
        """The human-readable index: what each section of the network does."""
        m = self.meta
        acc = m.get("accuracy")
        lines = [
            f"# INDEX: {m.get('network', 'network')} on {m.get('task', '?')}",
            "",
            f"Measured on the `{m.get('split', '?')}` split ({m.get('n', '?')} examples): accuracy "
            f"{acc:.4f}, {len(self)} hidden neurons in {len(self.layers)} layer(s), "
            f"{sum(1 for r in self if r['dead'])} dead." if acc is not None else "",
            "",
        ]
        names = self._weight_names()
        broken = self.nonfinite_lines()
        if broken:  # first: the numbers below are measured on a network that computes NaN or inf
            lines += ["**Not finite** (NaN or inf; a neuron's statistics below are NaN or inf where its numbers are):",
                      "",
                      *(f"- {b}" for b in broken), ""]
        lines += [
            "Per-class accuracy: " + ", ".join(
                f"{self._cls(c)} {a:.3f}" for c, a in enumerate(m.get("per_class", [])) if a is not None),
            "",
            f"A neuron *supports* a class when zeroing it alone costs that class at least "
            f"{round(100 * m.get('support_threshold', 0.02), 4):g} points of accuracy and at least two of its "
            "examples (one example of a small class is noise; one vectorised ablation pass per layer). "
            "Layers are numbered as in the neural graph: the input is layer 0, the first hidden layer is layer 1; "
            "layer l is computed by weight layer l-1 (region l-1 of `metanet edit --prune/--precision`)"
            # the network's own parameter names, section by section: '`layers.{l-1}`' was wrong for an nn.Sequential
            + ("; each layer's section names its parameters. " if names else ". ")
            + f"Reader roles: {m.get('reader', 'none')}.",
            "",
        ]
        for layer in self.layers:
            lrows = self.layer(layer)
            info = m.get("layer_info", {}).get(str(layer), {})
            lines += [
                f"## Layer {layer}: {len(lrows)} {lrows[0]['kind']}s"
                + (f" ({info['fan_in']} inputs each, {info['activation']})" if info else ""),
                "",
            ]
            if layer in names:
                bias, read = info.get("bias"), info.get("read_by")
                lines += [f"Weights in: `{names[layer]}`" + (f" (bias `{bias}`)" if isinstance(bias, str) else "")
                          + (f"; read by: {', '.join(f'`{r}`' for r in read)}" if isinstance(read, list) and read
                             else "") + ".", ""]
            for g in self.groups(layer):
                lines.append(self.group_line(layer, g))
                if g["kind"] in ("support", "selective"):
                    lines += [self._neuron_line(r) for r in g["rows"]]
            lines.append("")
        outl = [self[k] for k in self.outliers()]
        lines += ["## Outliers (possible rogue neurons)", ""]
        if outl:
            lines.append(f"Neurons whose weight norms or activation tail are far from their layer's "
                         f"(robust z-score >= {OUTLIER_Z:g}); a trigger-driven neuron often shows up here.")
            lines += [f"- layer {r['layer']}, neuron {r['idx']}: z = {r['outlier']:.1f}, active "
                      f"{100 * r['frac_active']:.0f}%, max output {r['act_max']:.2f} vs mean {r['act_mean']:.2f}, "
                      f"out norm {r['out_norm']:.2f}" for r in outl]
        else:
            lines.append(f"None (no robust z-score >= {OUTLIER_Z:g}).")
        lines.append("")
        return "\n".join(lines)
