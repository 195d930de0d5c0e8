"""Zoo recipes: a YAML description of a population of networks, validated on load, sampled per run.

A recipe says which tasks, which architectures, which training hyperparameters and which backdoors a zoo
holds, how many training runs it has and at which epochs each run is checkpointed. Every sampled value of run
``i`` is drawn from a random stream seeded by ``(recipe seed, i)`` alone, so a run is the same whatever else is
built with it (``--limit``, ``--shard I/N``, resume).

Schema (every key optional unless marked *required*; unknown keys are errors). The values shown are examples; a
key left out takes the default in its comment, ``(default X)``::

    name: mnist-mlp                # (default the file name without .yaml) no spaces or slashes
    description: free text         # (default "")
    seed: 0                        # (default 0) int in 0..2**32-1
    count: 512                     # *required*: training runs, 1..10000000 (each stores len(checkpoints) nets)
    population: 64                 # (default 64) at most this many runs train together, vectorised
    tasks: [mnist, "mnist[0-4]"]   # *required*: task names (or one name), sampled uniformly per run
    checkpoints: [0, 1, 3, 10]     # (default []) epochs whose weights are stored (0 = the initialisation), those a
                                   # run reaches (epochs is sampled per run); the run's last epoch is always stored
    arch:
      family: mlp                  # (default mlp) DIST of mlp | cnn
      depth: [1, 2]                # (default 1) DIST of hidden layers (mlp) / conv layers (cnn), 1..9999
      width: [16, 32, 64]          # (default 64) DIST of hidden widths / conv channels, >= 1
      same_width: true             # (default true) one sampled width for every hidden layer (else one draw per
                                   # layer; hparams['width'] is then the first hidden layer's, the arch has all)
      activation: [relu, tanh]     # (default relu) DIST of metanet.nets.ACTIVATIONS names
      skip: 0.5                    # (default 0.0) probability (or true/false) of residual skips (mlp: around each
                                   # hidden layer whose input and output widths are equal; a run with no such
                                   # layer, and every cnn run, stores skips: false)
      bias: true                   # (default true)
      kernel: 3                    # (default 3) DIST (cnn)
      stride: 2                    # (default 2) DIST (cnn)
    train:
      optimizer: [adam, sgd]       # (default adam) DIST of sgd | adam | adamw
      lr: {log_uniform: [1.0e-4, 1.0e-2]}   # (default 0.001) DIST in (0, 10]
      momentum: 0.9                # (default 0.9) DIST in [0, 1) (sgd; stored as 0.0 for adam and adamw)
      weight_decay: 0.0            # (default 0.0) DIST in [0, 1]
      batch_size: [32, 64]         # (default 64) DIST of ints >= 1
      epochs: 10                   # (default 5) DIST of ints in 1..10000
      init_scale: 1.0              # (default 1.0) DIST in (0, 100]: the default init multiplied by this factor
      dropout: 0.0                 # (default 0.0) DIST in [0, 1)
      label_noise: 0.0             # (default 0.0) DIST in [0, 1): fraction of the training examples
                                   # (round(fraction * n), drawn per run) whose label is redrawn uniformly over
                                   # all C classes of the task, so about 1/C of them keep their true label: the
                                   # stored 0.3 changes about 0.3 * (1 - 1/C) = 0.27 of the labels with 10 classes
      train_examples: null         # (default null) use only this many training examples of each task: one
                                   # subset per task, seeded by the recipe seed, shared by all its runs
    eval:
      train_examples: 5000         # (default 5000) train_acc is measured on this many training examples (clean
                                   # labels)
    backdoor:                      # (default null) optional: some runs are trained on poisoned data
      fraction: 0.5                # (default 0.5) probability that a run is poisoned
      poison_rate: {uniform: [0.05, 0.2]}   # (default 0.1) DIST in (0, 1): fraction of training examples poisoned
      kind: [square, checker, random]       # (default square) DIST: trigger pattern (random: 0/1 drawn per run;
                                            # an all-zero draw gets its centre pixel set: it would stamp nothing)
      size: [3, 4, 5]              # (default 3) DIST: trigger side in pixels
      location: [corner, random]   # (default corner) DIST: bottom-right corner (one pixel in from both edges,
                                   # where the image allows), or a random place fixed per run
      target: random               # (default random) a class index (DIST) or 'random' (uniform over the task's
                                   # classes)

A trigger is stamped on the task's inputs after its transforms: on a ``+permute`` task on the permuted image, on
an ``+invert`` task on the inverted one, whose white background hides a ``square`` (all 1s) outside the strokes,
so such runs are poisoned but learn little of the trigger (their stored ``asr`` shows it).

A DIST is a constant, a list (uniform choice), or a one-key mapping: ``{choice: [...]}``,
``{uniform: [lo, hi]}``, ``{log_uniform: [lo, hi]}``, ``{int: [lo, hi]}`` (inclusive). A key not marked DIST
takes one value: a list or mapping there is an error (``checkpoints`` and ``tasks`` are lists of their own).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from metanet.errors import RecipeError, TaskError
from metanet.io import MAX_LAYERS
from metanet.nets import ACTIVATIONS, FAMILIES, Arch

__all__ = [
    "Dist",
    "Recipe",
    "RunSpec",
    "load_recipe",
    "find_recipe",
    "run_seeds",
    "OPTIMIZERS",
    "TRIGGER_KINDS",
    "TRIGGER_LOCATIONS",
]

OPTIMIZERS = ("sgd", "adam", "adamw")
TRIGGER_KINDS = ("square", "checker", "random")
TRIGGER_LOCATIONS = ("corner", "random")
_DIST_KINDS = ("choice", "uniform", "log_uniform", "int")
#: most runs a recipe may have: planning samples every run (about 0.2 ms) and keeps it in memory, so 10**7 runs plan
#: for half an hour; a count of 10**12 (a typo, a stranger's file) planned until memory ran out
MAX_RUNS = 10_000_000
#: most values a recipe may hold with its YAML aliases expanded: a recipe is a few dozen keys, while a few hundred
#: bytes of aliases of aliases (a 'billion laughs' file) expand to 10**9 values, which validation walked for ever
_MAX_VALUES = 100_000

_TOP_KEYS = ("name", "description", "seed", "count", "population", "tasks", "checkpoints", "arch", "train", "eval", "backdoor")
_ARCH_KEYS = ("family", "depth", "width", "same_width", "activation", "skip", "bias", "kernel", "stride")
_TRAIN_KEYS = (
    "optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs", "init_scale", "dropout", "label_noise",
    "train_examples",
)
_EVAL_KEYS = ("train_examples",)
_BACKDOOR_KEYS = ("fraction", "poison_rate", "kind", "size", "location", "target")


#: plans of at least this many runs show a progress bar (sampling takes about 0.2 ms a run)
PLAN_PROGRESS_RUNS = 20_000


def _plain(v: Any, key: str = "") -> Any:
    """``v`` with numpy scalars, tuples and mapping/number/string subclasses turned into the plain YAML types.

    A recipe mapping built in Python may hold ``np.float64(0.1)`` or a tuple: validation accepted some of them, then
    writing the zoo's ``recipe.yaml`` (``yaml.safe_dump``) failed with a RepresenterError after the index was
    created. YAML-loaded recipes hold plain types already, so their fingerprints do not change.
    """
    where = key or "the recipe"
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, Mapping):
        return {k: _plain(x, f"{key}.{k}" if key else str(k)) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x, f"{key}[{i}]") for i, x in enumerate(v)]
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str.__str__(v)
    if v is None or isinstance(v, (bytes, set, _dt.date)):
        return v
    raise RecipeError(f"recipe key {where!r}: {v!r:.80} is a {type(v).__name__}, not a recipe value (a number, "
                      "string, boolean, null, list or mapping)")


def _keys(section: str, d: Any, valid: Sequence[str]) -> dict[str, Any]:
    if d is None:
        return {}
    if not isinstance(d, Mapping):
        raise RecipeError(f"recipe key {section!r} must be a mapping with keys {', '.join(valid)}; got {d!r:.80}")
    unknown = [k for k in d if k not in valid]
    if unknown:
        where = f"in {section!r}" if section else "at the top level"
        raise RecipeError(f"unknown recipe key(s) {unknown} {where}; valid keys: {', '.join(valid)}")
    return dict(d)


# ---------------------------------------------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dist:
    """A sampled value: ``choice`` over values, ``uniform``/``log_uniform`` over [lo, hi], ``int`` over lo..hi."""

    kind: str
    args: tuple

    @classmethod
    def parse(cls, key: str, value: Any) -> "Dist":
        """Parse a recipe value (constant, list, or ``{kind: args}``); errors name ``key``."""
        if isinstance(value, Mapping):
            if len(value) != 1 or next(iter(value)) not in _DIST_KINDS:
                raise RecipeError(
                    f"recipe key {key!r}: a distribution mapping has exactly one key out of {', '.join(_DIST_KINDS)} "
                    f"(e.g. {{log_uniform: [1.0e-4, 1.0e-2]}}); got {dict(value)!r}"
                )
            kind, args = next(iter(value.items()))
            if kind == "choice":
                if not isinstance(args, list) or not args:
                    raise RecipeError(f"recipe key {key!r}: 'choice' needs a non-empty list, got {args!r}")
                return cls("choice", tuple(args))
            if not isinstance(args, list) or len(args) != 2 or not all(_is_num(a) for a in args):
                raise RecipeError(f"recipe key {key!r}: {kind!r} needs a list [lo, hi] of two numbers, got {args!r}")
            lo, hi = args
            if lo > hi:
                raise RecipeError(f"recipe key {key!r}: {kind!r} range [{lo}, {hi}] has lo > hi")
            if kind == "log_uniform" and lo <= 0:
                raise RecipeError(f"recipe key {key!r}: 'log_uniform' needs lo > 0, got [{lo}, {hi}]")
            if kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
                raise RecipeError(f"recipe key {key!r}: 'int' needs integer bounds, got [{lo}, {hi}]")
            return cls(kind, (lo, hi))
        if isinstance(value, list):
            if not value:
                raise RecipeError(f"recipe key {key!r}: an empty list has nothing to choose from")
            return cls("choice", tuple(value))
        return cls("choice", (value,))

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value (a choice of one value draws nothing, so constants do not shift the stream)."""
        if self.kind == "choice":
            if len(self.args) == 1:
                return self.args[0]
            return self.args[int(rng.integers(len(self.args)))]
        lo, hi = self.args
        if self.kind == "uniform":
            return float(rng.uniform(lo, hi))
        if self.kind == "log_uniform":
            return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        return int(rng.integers(int(lo), int(hi) + 1))

    def bounds(self) -> list[Any]:
        """The values to validate: every choice, or both ends of a range."""
        return list(self.args)

    def check(self, key: str, ok: Callable[[Any], bool], valid: str) -> "Dist":
        """Raise RecipeError naming ``key`` unless ``ok`` holds for every choice / both range ends."""
        for v in self.bounds():
            if not ok(v):
                raise RecipeError(f"recipe key {key!r}: value {v!r} is invalid; valid: {valid}")
        return self

    def to_yaml(self) -> Any:
        """The distribution as written in a recipe (a value, a list of choices, or ``{kind: args}``)."""
        if self.kind == "choice":
            return self.args[0] if len(self.args) == 1 else list(self.args)
        return {self.kind: list(self.args)}


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_name(v: Any, names: Any) -> bool:
    """``v`` is one of ``names`` (a string: a YAML list or mapping is not, and is not hashable either)."""
    return isinstance(v, str) and v in names


def _is_int(v: Any) -> bool:
    """An integer, Python or numpy (a recipe built in Python may hold ``np.int64``), but not a bool (``True`` is not
    1 epoch): the one integer check of recipes, of training runs and of their task data (:mod:`metanet.zoo.train`
    and :mod:`metanet.zoo.data` use it too)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------------------------
def run_seeds(recipe_seed: int, index: int) -> dict[str, int]:
    """The seeds of run ``index``: ``seed`` (stored in the ``nets`` table) and the streams derived from it.

    ``sample`` draws the run's hyperparameters, ``init`` initialises the network (``metanet.nets.build``),
    ``data`` draws the epoch orders and dropout masks, ``setup`` draws label noise and poisoned examples.
    """
    seed = int(np.random.SeedSequence([recipe_seed, index]).generate_state(1, np.uint32)[0])
    return derived_seeds(seed)


def derived_seeds(seed: int) -> dict[str, int]:
    """The named seeds derived from one run seed (see :func:`run_seeds`)."""
    names = ("sample", "init", "data", "setup")
    states = np.random.SeedSequence(seed).generate_state(len(names), np.uint32)
    return {"seed": int(seed), **{n: int(s) for n, s in zip(names, states)}}


@dataclass
class RunSpec:
    """One training run of a recipe: everything needed to train it alone and to write its rows.

    Attributes:
        index: the run's index in the recipe (``run`` column).
        task: task name.
        arch: the sampled architecture.
        hparams: sampled training hyperparameters (JSON-able), plus ``activation``/``depth``/``width`` and the
            resulting ``n_train`` for convenience.
        seed: the run seed (``seed`` column); every random stream of the run derives from it.
        checkpoints: epochs stored, ascending, the last one is ``hparams['epochs']``.
        backdoor: None for a clean run, else the trigger (kind, size, location [row, col], target, poison_rate,
            pattern) — the attack success rate is added after training.
        first_id: the ``id`` of the run's first checkpoint (ids are consecutive).
    """

    index: int
    task: str
    arch: Arch
    hparams: dict[str, Any]
    seed: int
    checkpoints: list[int]
    backdoor: dict[str, Any] | None
    first_id: int = 0

    @property
    def ids(self) -> list[int]:
        """The zoo ids of the run's checkpoints, one per entry of ``checkpoints``."""
        return list(range(self.first_id, self.first_id + len(self.checkpoints)))

    def group_key(self) -> tuple:
        """Runs with equal keys train together: same architecture, optimizer and step schedule."""
        h = self.hparams
        return (str(self.arch), h["optimizer"], h["batch_size"], h["epochs"], h["n_train"], tuple(self.checkpoints))

    def to_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "index": self.index, "task": self.task, "arch": self.arch.to_dict(), "hparams": self.hparams,
            "seed": self.seed, "checkpoints": self.checkpoints, "backdoor": self.backdoor, "first_id": self.first_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunSpec":
        """The run of a :meth:`to_dict` mapping."""
        return cls(d["index"], d["task"], Arch.from_dict(d["arch"]), d["hparams"], d["seed"], list(d["checkpoints"]),
                   d["backdoor"], d["first_id"])


# ---------------------------------------------------------------------------------------------------------------
# the recipe
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Recipe:
    """A validated recipe (see the module docstring for the schema). Build it with :func:`load_recipe`."""

    name: str
    count: int
    tasks: list[str]
    seed: int = 0
    description: str = ""
    population: int = 64
    checkpoints: list[int] = field(default_factory=list)
    arch: dict[str, Dist] = field(default_factory=dict)
    same_width: bool = True
    skip: float = 0.0
    bias: bool = True
    train: dict[str, Dist] = field(default_factory=dict)
    train_examples: int | None = None
    eval_train_examples: int = 5000
    backdoor: dict[str, Any] | None = None
    source: dict[str, Any] = field(default_factory=dict)  # the mapping it was parsed from

    # --- identity ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The mapping this recipe was parsed from (re-parses to an equal recipe)."""
        return copy.deepcopy(self.source)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the recipe as written (its :meth:`to_dict`, description included).

        Equal recipes have equal fingerprints; recipes written differently (``lr: 0.001`` and ``lr: [0.001]``, or
        another description) differ even when they sample the same runs: a build resumes only with its own recipe.
        """
        return hashlib.sha256(json.dumps(self.source, sort_keys=True, default=str).encode()).hexdigest()

    # --- sampling ------------------------------------------------------------------------------------------
    def sample_run(self, index: int, task_info: Callable[[str], tuple[tuple[int, ...], int, int]] | None = None) -> RunSpec:
        """Sample run ``index`` (its ``first_id`` is left 0; :meth:`runs` numbers them).

        Args:
            index: run index, 0 <= index < count.
            task_info: ``name -> (input_shape, num_classes, n_train)``; defaults to loading the task.

        Raises:
            RecipeError: ``index`` is not an integer in ``0..count - 1`` (a run past ``count`` is not in the zoo).
        """
        i = int(index) if _is_int(index) else None
        if i is None or not 0 <= i < self.count:
            raise RecipeError(f"run index {index!r:.40} is out of range; recipe {self.name!r} has runs 0..{self.count - 1}")
        index = i
        info = task_info or _task_info
        seeds = run_seeds(self.seed, index)
        rng = np.random.default_rng(seeds["sample"])
        task = self.tasks[int(rng.integers(len(self.tasks)))] if len(self.tasks) > 1 else self.tasks[0]
        input_shape, num_classes, n_train = info(task)
        a = self.arch
        family = a["family"].sample(rng)
        depth = int(a["depth"].sample(rng))
        if self.same_width:
            widths = [int(a["width"].sample(rng))] * depth
        else:
            widths = [int(a["width"].sample(rng)) for _ in range(depth)]
        activation = a["activation"].sample(rng)
        skips = bool(rng.random() < self.skip) if 0 < self.skip < 1 else self.skip >= 1
        kernel, stride = int(a["kernel"].sample(rng)), int(a["stride"].sample(rng))
        if family == "mlp":
            # a skip needs two consecutive hidden layers of one width: with same_width false and no such pair the
            # run has no residual connection, and hparams['skips'] (a reader's ground truth) must not claim one
            skips = skips and any(a == b for a, b in zip(widths, widths[1:]))
            arch = Arch("mlp", (math.prod(input_shape), *widths, num_classes), activation, self.bias, skips=skips)
        else:
            if len(input_shape) != 3:
                raise RecipeError(f"task {task!r} has input shape {input_shape}; the cnn family needs (C, H, W) images")
            arch = Arch("cnn", (input_shape[0], *widths, num_classes), activation, self.bias, kernel=kernel,
                        stride=stride)
        t = self.train
        hp: dict[str, Any] = {k: t[k].sample(rng) for k in _TRAIN_KEYS if k != "train_examples"}
        hp["lr"], hp["weight_decay"] = float(hp["lr"]), float(hp["weight_decay"])
        hp["momentum"] = float(hp["momentum"]) if hp["optimizer"] == "sgd" else 0.0
        hp["init_scale"], hp["dropout"], hp["label_noise"] = (
            float(hp["init_scale"]), float(hp["dropout"]), float(hp["label_noise"]))
        hp["batch_size"], hp["epochs"] = int(hp["batch_size"]), int(hp["epochs"])
        hp["n_train"] = n_train if self.train_examples is None else min(n_train, self.train_examples)
        hp.update(activation=activation, depth=depth, width=widths[0] if widths else 0,
                  family=family, skips=arch.skips)
        epochs = hp["epochs"]
        ckpts = sorted({c for c in self.checkpoints if c < epochs} | {epochs})
        backdoor = None
        if self.backdoor is not None and rng.random() < self.backdoor["fraction"]:
            backdoor = self._sample_backdoor(rng, task, input_shape, num_classes)
        return RunSpec(index, task, arch, hp, seeds["seed"], ckpts, backdoor)

    def _sample_backdoor(self, rng: np.random.Generator, task: str, shape: tuple[int, ...], classes: int) -> dict:
        b = self.backdoor
        assert b is not None
        if len(shape) != 3:
            raise RecipeError(f"backdoor: task {task!r} has input shape {shape}; triggers need (C, H, W) images")
        kind, size = b["kind"].sample(rng), int(b["size"].sample(rng))
        if size > min(shape[1:]):
            raise RecipeError(f"backdoor.size {size} does not fit the {shape[1]}x{shape[2]} images of task {task!r}")
        loc = b["location"].sample(rng)
        h, w = shape[1], shape[2]
        if loc == "corner":
            row, col = h - size - 1 if h > size else 0, w - size - 1 if w > size else 0
        else:
            row, col = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        target = int(rng.integers(classes)) if b["target"] == "random" else int(b["target"].sample(rng))
        if not 0 <= target < classes:
            raise RecipeError(f"backdoor.target {target} is not a class of task {task!r} (0..{classes - 1})")
        if kind == "square":
            pattern = [[1] * size for _ in range(size)]
        elif kind == "checker":
            pattern = [[(r + c) % 2 for c in range(size)] for r in range(size)]
        else:
            pattern = rng.integers(0, 2, size=(size, size)).tolist()
            if not any(map(any, pattern)):
                # all zero (1 in 2**(size*size): 1 in 16 for size 2) stamps nothing on a zero background, so the run
                # was stored backdoored with no backdoor; its centre pixel is set, drawing nothing more (no other
                # draw of this or any run changes)
                pattern[size // 2][size // 2] = 1
        return {
            "kind": kind, "size": size, "location": [row, col], "placement": loc, "target": target,
            "poison_rate": float(b["poison_rate"].sample(rng)), "pattern": pattern,
        }

    def runs(self, limit: int | None = None, task_info: Callable | None = None, progress: bool = False) -> list[RunSpec]:
        """All runs (or the first ``limit``), with consecutive ``id``s: run i's checkpoints follow run i-1's.

        Ids depend only on the runs before, so a ``--limit``-ed build numbers its networks as the full build.
        ``progress``: a tqdm bar when there are many runs (sampling takes about 0.2 ms a run: a recipe of a million
        runs plans for minutes before its first network trains).
        """
        from tqdm import tqdm

        n = self.count if limit is None else min(self.count, limit)
        out, next_id = [], 0
        for i in tqdm(range(n), desc=f"planning {self.name}", unit="run", disable=not progress or n < PLAN_PROGRESS_RUNS,
                      leave=False):
            r = self.sample_run(i, task_info)
            r.first_id = next_id
            next_id += len(r.checkpoints)
            out.append(r)
        return out


def _task_info(name: str) -> tuple[tuple[int, ...], int, int]:
    from metanet.zoo.data import task_info

    return task_info(name)


# ---------------------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------------------
def _int(key: str, v: Any, lo: int, hi: float = math.inf) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        rng = f">= {lo}" if hi == math.inf else f"in [{lo}, {hi}]"
        raise RecipeError(f"recipe key {key!r} must be an integer {rng}; got {v!r}")
    return v


def _num(key: str, v: Any, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    ok = _is_num(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        raise RecipeError(f"recipe key {key!r} must be a number in {'(' if lo_open else '['}{lo}, {hi}"
                          f"{')' if hi_open else ']'}; got {v!r}")
    return float(v)


def _check_expanded(d: Any) -> None:
    """Raise RecipeError when ``d`` holds more than :data:`_MAX_VALUES` values, a list or mapping counted at every
    place it is referred to (YAML aliases share one object), or holds itself (``&a [x, *a]``), or is nested too
    deeply: validating it was a hang, or a raw RecursionError. Shared objects are counted once each (memoised)."""
    sizes: dict[int, int] = {}

    def size(v: Any) -> int:
        if isinstance(v, Mapping):
            items: Any = [*v.keys(), *v.values()]
        elif isinstance(v, (list, tuple)):
            items = v
        else:
            return 1
        if id(v) in sizes:
            return sizes[id(v)]
        sizes[id(v)] = _MAX_VALUES + 1  # while it is counted: met again inside itself, it is endless
        n = 1
        for x in items:
            n += size(x)
            if n > _MAX_VALUES:
                break
        sizes[id(v)] = n
        return n

    try:
        too_many = size(d) > _MAX_VALUES
    except RecursionError:
        raise RecipeError("the recipe is nested too deeply; a recipe is a mapping of a few levels") from None
    if too_many:
        raise RecipeError(f"the recipe holds more than {_MAX_VALUES:,} values once its YAML aliases are expanded "
                          "(aliases of aliases, a 'billion laughs' file, or a list that holds itself); a recipe is "
                          "a few dozen keys: write its values out")


def parse_recipe(d: Mapping[str, Any], name: str | None = None, check_tasks: bool = True) -> Recipe:
    """Validate a recipe mapping and return the :class:`Recipe`.

    Args:
        d: the parsed YAML.
        name: default name when ``d`` has none.
        check_tasks: resolve every task with ``metanet.tasks.get`` (unknown tasks are errors).

    Raises:
        RecipeError: unknown key, bad value or range, unknown task; the message names the key.
    """
    _check_expanded(d)  # first: every later step walks the values, as does the repr in an error message
    top = _plain(_keys("", d, _TOP_KEYS))
    source = copy.deepcopy(top)
    for req in ("count", "tasks"):
        if req not in top:
            raise RecipeError(f"recipe is missing the required key {req!r}")
    rname = top.get("name", name or "recipe")
    if not isinstance(rname, str) or not rname or any(c in rname for c in "/\\ "):
        if "name" not in top:  # the default from the file name: the user wrote no 'name' key to fix
            raise RecipeError(f"the recipe has no 'name' key and its file name {rname!r} is not a valid name (a "
                              "non-empty string without '/', '\\' or spaces); add a line like 'name: my-zoo'")
        raise RecipeError(f"recipe key 'name' must be a non-empty string without '/', '\\' or spaces; got {rname!r}")
    description = top.get("description")
    if isinstance(description, (Mapping, list)):
        raise RecipeError(f"recipe key 'description' must be text; got {description!r:.80} (quote it, or use '>' "
                          "for several lines)")
    source["name"] = rname
    seed = _int("seed", top.get("seed", 0), 0, 2**32 - 1)
    count = _int("count", top["count"], 1, MAX_RUNS)
    population = _int("population", top.get("population", 64), 1)
    tasks = top["tasks"]
    if isinstance(tasks, str):
        tasks = [tasks]
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise RecipeError(f"recipe key 'tasks' must be a non-empty list of task names; got {tasks!r}")
    if check_tasks:
        from metanet import tasks as tasks_mod

        for i, t in enumerate(tasks):
            try:
                tasks_mod.get(t)
            except TaskError as e:
                raise RecipeError(f"recipe key 'tasks[{i}]': {e}") from None
    ckpts = top.get("checkpoints", [])
    if not isinstance(ckpts, list) or not all(_is_int(c) and c >= 0 for c in ckpts):
        raise RecipeError(f"recipe key 'checkpoints' must be a list of epochs (integers >= 0); got {ckpts!r}")
    if len(set(ckpts)) != len(ckpts):
        raise RecipeError(f"recipe key 'checkpoints' has repeated epochs: {ckpts}")

    # --- arch -------------------------------------------------------------------------------------------
    a = _keys("arch", top.get("arch"), _ARCH_KEYS)
    arch = {
        "family": Dist.parse("arch.family", a.get("family", "mlp")).check(
            "arch.family", lambda v: _is_name(v, FAMILIES), " | ".join(FAMILIES)),
        "depth": Dist.parse("arch.depth", a.get("depth", 1)).check(
            # at most MAX_LAYERS weight layers (depth + 1): metanet.load and Zoo.load refuse larger networks
            "arch.depth", lambda v: _is_int(v) and 1 <= v < MAX_LAYERS, f"integers in [1, {MAX_LAYERS - 1}]"),
        "width": Dist.parse("arch.width", a.get("width", 64)).check(
            "arch.width", lambda v: _is_int(v) and v >= 1, "integers >= 1"),
        "activation": Dist.parse("arch.activation", a.get("activation", "relu")).check(
            "arch.activation", lambda v: _is_name(v, ACTIVATIONS), " | ".join(ACTIVATIONS)),
        "kernel": Dist.parse("arch.kernel", a.get("kernel", 3)).check(
            "arch.kernel", lambda v: _is_int(v) and v >= 1, "integers >= 1"),
        "stride": Dist.parse("arch.stride", a.get("stride", 2)).check(
            "arch.stride", lambda v: _is_int(v) and v >= 1, "integers >= 1"),
    }
    same_width = a.get("same_width", True)
    if not isinstance(same_width, bool):
        raise RecipeError(f"recipe key 'arch.same_width' must be true or false; got {same_width!r}")
    skip = a.get("skip", 0.0)
    skip = 1.0 if skip is True else 0.0 if skip is False else _num("arch.skip", skip, 0, 1)
    bias = a.get("bias", True)
    if not isinstance(bias, bool):
        raise RecipeError(f"recipe key 'arch.bias' must be true or false; got {bias!r}")

    # --- train ------------------------------------------------------------------------------------------
    t = _keys("train", top.get("train"), _TRAIN_KEYS)
    pos = lambda v: _is_num(v) and v > 0  # noqa: E731
    train = {
        "optimizer": Dist.parse("train.optimizer", t.get("optimizer", "adam")).check(
            "train.optimizer", lambda v: _is_name(v, OPTIMIZERS), " | ".join(OPTIMIZERS)),
        "lr": Dist.parse("train.lr", t.get("lr", 1e-3)).check("train.lr", lambda v: pos(v) and v <= 10, "numbers in (0, 10]"),
        "momentum": Dist.parse("train.momentum", t.get("momentum", 0.9)).check(
            "train.momentum", lambda v: _is_num(v) and 0 <= v < 1, "numbers in [0, 1)"),
        "weight_decay": Dist.parse("train.weight_decay", t.get("weight_decay", 0.0)).check(
            "train.weight_decay", lambda v: _is_num(v) and 0 <= v <= 1, "numbers in [0, 1]"),
        "batch_size": Dist.parse("train.batch_size", t.get("batch_size", 64)).check(
            "train.batch_size", lambda v: _is_int(v) and v >= 1, "integers >= 1"),
        "epochs": Dist.parse("train.epochs", t.get("epochs", 5)).check(
            "train.epochs", lambda v: _is_int(v) and 1 <= v <= 10000, "integers in [1, 10000]"),
        "init_scale": Dist.parse("train.init_scale", t.get("init_scale", 1.0)).check(
            "train.init_scale", lambda v: pos(v) and v <= 100, "numbers in (0, 100]"),
        "dropout": Dist.parse("train.dropout", t.get("dropout", 0.0)).check(
            "train.dropout", lambda v: _is_num(v) and 0 <= v < 1, "numbers in [0, 1)"),
        "label_noise": Dist.parse("train.label_noise", t.get("label_noise", 0.0)).check(
            "train.label_noise", lambda v: _is_num(v) and 0 <= v < 1, "numbers in [0, 1)"),
    }
    for k in ("batch_size", "epochs", "depth", "width", "kernel", "stride"):
        dist = train.get(k) or arch.get(k)
        if dist.kind in ("uniform", "log_uniform"):
            sect = "train" if k in train else "arch"
            raise RecipeError(f"recipe key '{sect}.{k}' takes integers: use a list or {{int: [lo, hi]}}, not {dist.kind!r}")
    # a checkpoint past every run's last epoch would be dropped by every run: a typo, not a request
    max_epochs = max(train["epochs"].bounds())
    unreachable = [c for c in ckpts if c > max_epochs]
    if unreachable:
        raise RecipeError(f"recipe key 'checkpoints': epoch(s) {sorted(unreachable)} are past the largest "
                          f"train.epochs ({max_epochs}), so no run would store them; valid: epochs 0..{max_epochs}")
    train_examples = t.get("train_examples")
    if train_examples is not None:
        train_examples = _int("train.train_examples", train_examples, 1)
    e = _keys("eval", top.get("eval"), _EVAL_KEYS)
    eval_train = _int("eval.train_examples", e.get("train_examples", 5000), 1)

    # --- backdoor ---------------------------------------------------------------------------------------
    backdoor = None
    if top.get("backdoor") is not None:
        b = _keys("backdoor", top["backdoor"], _BACKDOOR_KEYS)
        target = b.get("target", "random")
        backdoor = {
            "fraction": _num("backdoor.fraction", b.get("fraction", 0.5), 0, 1),
            "poison_rate": Dist.parse("backdoor.poison_rate", b.get("poison_rate", 0.1)).check(
                "backdoor.poison_rate", lambda v: _is_num(v) and 0 < v < 1, "numbers in (0, 1)"),
            "kind": Dist.parse("backdoor.kind", b.get("kind", "square")).check(
                "backdoor.kind", lambda v: _is_name(v, TRIGGER_KINDS), " | ".join(TRIGGER_KINDS)),
            "size": Dist.parse("backdoor.size", b.get("size", 3)).check(
                "backdoor.size", lambda v: _is_int(v) and v >= 1, "integers >= 1"),
            "location": Dist.parse("backdoor.location", b.get("location", "corner")).check(
                "backdoor.location", lambda v: _is_name(v, TRIGGER_LOCATIONS), " | ".join(TRIGGER_LOCATIONS)),
            "target": "random" if target == "random" else Dist.parse("backdoor.target", target).check(
                "backdoor.target", lambda v: _is_int(v) and v >= 0,
                "'random' alone, or class indices >= 0 (a constant, a list or {int: [lo, hi]})"),
        }
        for k in ("size", "target"):
            if backdoor[k] != "random" and backdoor[k].kind in ("uniform", "log_uniform"):
                raise RecipeError(f"recipe key 'backdoor.{k}' takes integers: use a list or {{int: [lo, hi]}}, "
                                  f"not {backdoor[k].kind!r}")
    recipe = Recipe(
        name=rname, count=count, tasks=list(tasks), seed=seed, description="" if description is None else str(description),
        population=population, checkpoints=sorted(ckpts), arch=arch, same_width=same_width, skip=skip, bias=bias,
        train=train, train_examples=train_examples, eval_train_examples=eval_train, backdoor=backdoor, source=source,
    )
    if check_tasks:
        _check_fit(recipe)
    return recipe


def _check_fit(recipe: Recipe) -> None:
    """Errors that depend on the tasks: cnn on non-image tasks, triggers larger than images, bad targets."""
    from metanet.zoo.data import task_info

    fams = recipe.arch["family"].bounds()
    for i, t in enumerate(recipe.tasks):
        shape, classes, _ = task_info(t)
        if "cnn" in fams and len(shape) != 3:
            raise RecipeError(f"recipe key 'tasks[{i}]': task {t!r} has inputs {shape}, but arch.family allows cnn, "
                              "which needs (C, H, W) images")
        b = recipe.backdoor
        if b is None:
            continue
        if len(shape) != 3:
            raise RecipeError(f"recipe key 'tasks[{i}]': task {t!r} has inputs {shape}; backdoor triggers need images")
        if max(b["size"].bounds()) > min(shape[1:]):
            raise RecipeError(f"recipe key 'backdoor.size': {max(b['size'].bounds())} does not fit the "
                              f"{shape[1]}x{shape[2]} images of task {t!r}")
        if b["target"] != "random" and max(b["target"].bounds()) >= classes:
            raise RecipeError(f"recipe key 'backdoor.target': class {max(b['target'].bounds())} is not a class of "
                              f"task {t!r} (valid: 0..{classes - 1} or 'random')")


def _recipe_dirs() -> list[Path]:
    """Where a bare recipe name is looked up: ``./zoo``, the source tree's ``zoo/``, then the recipes shipped as
    package data (``metanet/recipes``, byte-identical copies of every ``zoo/*.yaml``: what a non-editable install
    has)."""
    here = Path(__file__).resolve()
    return [Path.cwd() / "zoo", here.parents[2] / "zoo", here.parents[1] / "recipes"]


def find_recipe(spec: str | os.PathLike) -> Path:
    """Resolve a recipe path (``~`` is expanded, as a shell would), or a bare name like ``tiny`` to ``tiny.yaml`` in
    :func:`_recipe_dirs`."""
    p = Path(os.path.expanduser(spec))  # '~/r.yaml' was "not found" (only build() expanded it)
    if p.is_file():
        return p
    if p.suffix not in (".yaml", ".yml") and len(p.parts) == 1:
        for root in _recipe_dirs():
            c = root / f"{p.name}.yaml"
            if c.is_file():
                return c
    if p.exists():  # a stat, never an open: reading a FIFO blocks, /dev/zero never ends; both were "not found"
        kind = ("a folder" if p.is_dir() else "a FIFO (named pipe)" if p.is_fifo() else "a device"
                if p.is_char_device() or p.is_block_device() else "a socket or other special file")
        raise RecipeError(f"recipe {str(spec)!r} is {kind}, not a regular file: give a path to a .yaml file")
    names = sorted({q.stem for root in _recipe_dirs() for q in root.glob("*.yaml")})
    # `zoo/tiny.yaml` (as the README writes it) names a file of a checkout: an installed package has no zoo/ folder
    hint = ""
    if p.stem in names:
        where = "zoo/ is a folder of the metanet repository, but " if p.parts[0] == "zoo" else ""
        hint = f"; {where}'{p.stem}' also ships inside the package: give the bare name {p.stem!r}"
    raise RecipeError(f"recipe {str(spec)!r} not found: give a path to a .yaml file or the name of one in zoo/ or "
                      f"shipped with metanet ({', '.join(names)}){hint}")


def _recipe_loader() -> type:
    """A ``yaml.SafeLoader`` that reads ``3e-4`` as a float and refuses duplicate keys.

    YAML 1.1 (PyYAML) reads a float without a dot or without an exponent sign (``3e-4``, ``1.0e3``) as a string,
    so ``lr: 3e-4`` was refused as an invalid value; and a repeated key silently kept its last value.
    """
    import re

    import yaml

    class _Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[str] = set()
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"found duplicate key {k.value!r}", k.start_mark)
                    seen.add(k.value)
            return super().construct_mapping(node, deep)

    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."))
    return _Loader


def load_recipe(source: "str | os.PathLike | Mapping[str, Any] | Recipe", check_tasks: bool = True) -> Recipe:
    """Load and validate a recipe.

    Args:
        source: a path to a YAML file (``~`` is expanded), a recipe name in ``zoo/`` (``"tiny"``), a mapping, or a
            :class:`Recipe`.
        check_tasks: resolve the task names (needs their data); disable only for schema-only checks.

    Returns:
        The validated :class:`Recipe`.

    Raises:
        RecipeError: missing file, malformed YAML, unknown key, bad range or unknown task (the message names it).
    """
    if isinstance(source, Recipe):
        return source
    if isinstance(source, Mapping):
        return parse_recipe(source, check_tasks=check_tasks)
    if not isinstance(source, (str, os.PathLike)):
        raise RecipeError(f"a recipe is a path, a recipe name in zoo/ or a mapping; got {type(source).__name__}")
    import yaml

    path = find_recipe(source)
    try:
        d = yaml.load(path.read_text(encoding="utf-8"), Loader=_recipe_loader())
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as e:
        # YAML's messages span lines (and quote the source with a caret): one line, like every error
        raise RecipeError(f"{path}: not valid UTF-8 YAML ({type(e).__name__}: {' '.join(str(e).split())})") from None
    except OSError as e:
        raise RecipeError(f"{path}: cannot read the recipe ({e})") from None
    if not isinstance(d, Mapping):
        raise RecipeError(f"{path}: a recipe is a YAML mapping of keys {', '.join(_TOP_KEYS)}")
    try:
        return parse_recipe(d, name=path.stem, check_tasks=check_tasks)
    except RecipeError as e:
        raise RecipeError(f"{path}: {e}") from None
