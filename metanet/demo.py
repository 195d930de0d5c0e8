"""`metanet demo`: the whole system end to end on a laptop-sized budget, with a TensorBoard run to look at.

Six stages, each with a progress line as it ends (without a terminal also one as it starts), on 2 CPU cores in a
few minutes, with no network access:

1. **zoo** — build the tiny zoo recipe (``zoo/tiny.yaml``, shipped inside the package as
   ``metanet/recipes/tiny.yaml``) into ``OUT/zoo`` with :func:`metanet.zoo.build` (resumable: a second run of
   the demo reuses it);
2. **read** — the shipped reader reads every network of the zoo (predicted vs true test accuracy, Kendall τ,
   over all networks and over the runs the reader never saw in training) and one of them in full with
   :func:`metanet.read`;
3. **generate** — the shipped writer writes K candidate networks for MNIST, verified at once
   (:func:`metanet.generate`), the best saved as ``OUT/generated.safetensors``;
4. **loop** — two rounds of the verification loop (:func:`metanet.improve`) on a held-out task given only as
   labelled examples (images of MNIST's *test* split, pixels permuted, labels shuffled — never seen by the writer),
   cut into support / val / test by :func:`metanet.loop.split_examples`;
5. **inspect** — what every neuron of the generated network does (:func:`metanet.inspect`, saved to
   ``OUT/inspect``);
6. **prune** — a magnitude-pruning curve (val accuracy at several sparsities), then the verified edit:
   70% of the weights removed by measured necessity, each removal kept only while val accuracy stays within a
   point (:func:`metanet.edit.prune`, before/after on the test split), saved as ``OUT/pruned.safetensors``.

Everything measured is logged to the TensorBoard run directory ``OUT/tb``: scalars (reader τ and errors, loop
rewards per round, candidate accuracies, the pruning curve), figures (accuracy scatter, reward curve,
first-layer weight images, ablation heat map, the network's neural graph, pruning curve), histograms of the
generated weights per layer, the traced module graph and a text summary.

>>> from metanet.demo import run_demo
>>> result = run_demo("metanet-demo", seed=0)    # doctest: +SKIP
>>> [row["stage"] for row in result["stages"]]  # doctest: +SKIP
['zoo', 'read', 'generate', 'loop', 'inspect', 'prune']
>>> result["tensorboard"]                        # doctest: +SKIP
'metanet-demo/tb'

(skipped by the doctests: the demo takes minutes and prints its reports and summary table on stdout)
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from metanet.errors import ConfigError, RecipeError, ZooError

if TYPE_CHECKING:  # imported where used: `metanet --help` builds this command's parser without loading PyTorch
    import torch

__all__ = ["run_demo", "register", "tiny_recipe", "STAGES", "HELDOUT_TASK", "QUICK_HELDOUT_TASK", "PRUNE_SPARSITIES",
           "PRUNE_TARGET"]

#: stage names, in order
STAGES = ("zoo", "read", "generate", "loop", "inspect", "prune")

#: the held-out task of the loop stage: its *test* images only (the writer was meta-trained on train splits),
#: pixels permuted and labels shuffled with seeds the writer never saw
HELDOUT_TASK = "mnist+permute(11)+relabel(5)"

#: the same, smaller and cheaper, for ``quick=True``: digits test images (8x8)
QUICK_HELDOUT_TASK = "digits+permute(11)+relabel(5)"

#: training runs of the tiny recipe built with ``quick=True`` (of its 96)
QUICK_ZOO_RUNS = 8

#: sparsities of the pruning curve (fraction of zero weights)
PRUNE_SPARSITIES = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)

#: the verified edit: this fraction of the generated network's weights removed by measured necessity, every
#: removal kept only while val accuracy stays within ``PRUNE_TOLERANCE`` of the original
PRUNE_TARGET = 0.7
PRUNE_TOLERANCE = 0.01

#: how the shipped reader's training networks were chosen (``train/reader.yaml``): runs split 0.8/0.1/0.1 with
#: seed 0, one architecture held out entirely. Networks outside that train part were never seen by the reader.
_READER_SPLIT = {"fractions": (0.8, 0.1, 0.1), "seed": 0, "exclude_archs": ("mlp:784-32-32-10:relu",)}


def tiny_recipe() -> Path:
    """The tiny zoo recipe shipped inside the package (a byte-identical copy of the repository's
    ``zoo/tiny.yaml``, so the demo works from a non-editable install too)."""
    path = Path(__file__).resolve().parent / "recipes" / "tiny.yaml"
    if not path.is_file():
        raise RecipeError(f"the demo's recipe {path} is missing from this installation; reinstall metanet "
                          "(it is package data: metanet/recipes/tiny.yaml)")
    return path


# ------------------------------------------------------------------------------------------ bookkeeping
class _Run:
    """Stage timing, the progress display and the summary table.

    In a terminal a tqdm bar over the six stages shows the running one; every stage ends with one line
    ``[i/6] stage: result (seconds)`` on stderr. Readable results go to stdout through ``tqdm.write`` (so they do
    not tear the bar).
    """

    def __init__(self, progress: bool, verbose: bool) -> None:
        from tqdm import tqdm

        self.verbose = verbose
        self.rows: list[dict[str, Any]] = []
        # disable=None: tqdm draws the bar only on a terminal; logs get the stage lines alone. stderr None (started
        # with it closed, `2>&-`): tqdm drew its bar into None (an AttributeError as the first stage began), and its
        # write(file=None) would put the stage lines on stdout
        self.progress = progress and sys.stderr is not None
        self.bar = tqdm(total=len(STAGES), desc="metanet demo", unit="stage", disable=None if self.progress else True,
                        file=sys.stderr, dynamic_ncols=True, leave=False,
                        bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} stages [{elapsed}]")
        self.tty = not self.bar.disable

    def say(self, text: str) -> None:
        """Readable output (stdout)."""
        if self.verbose:
            self.bar.write(text, file=sys.stdout)

    def _line(self, text: str) -> None:
        if self.progress:
            self.bar.write(text, file=sys.stderr)

    @contextmanager
    def stage(self, name: str, what: str) -> Iterator[dict[str, Any]]:
        i = STAGES.index(name) + 1
        self.bar.set_description_str(f"[{i}/{len(STAGES)}] {name}: {what}")
        if not self.tty:  # no bar to show what is running: say it
            self._line(f"[{i}/{len(STAGES)}] {name}: {what} ...")
        row: dict[str, Any] = {"stage": name, "result": ""}
        t0 = time.perf_counter()
        yield row
        row["seconds"] = round(time.perf_counter() - t0, 2)
        self.rows.append(row)
        self._line(f"[{i}/{len(STAGES)}] {name}: {row['result']} ({row['seconds']:.1f} s)")
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()

    def table(self, total: float) -> str:
        """The summary table. ``total`` is the whole run's time, the one printed below the table: the stages' sum
        was printed as the table's total, seconds short of it (libraries loaded between the stages), so the
        difference gets a row of its own."""
        w = max([len(r["result"]) for r in self.rows] + [6])
        lines = [f"{'stage':<10}{'result':<{w + 2}}{'seconds':>8}", "-" * (w + 20)]
        lines += [f"{r['stage']:<10}{r['result']:<{w + 2}}{r['seconds']:>8.1f}" for r in self.rows]
        other = total - sum(r["seconds"] for r in self.rows)
        if other >= 0.05:
            lines.append(f"{'':<10}{'(between the stages: loading libraries)':<{w + 2}}{other:>8.1f}")
        lines.append(f"{'total':<10}{'':<{w + 2}}{total:>8.1f}")
        return "\n".join(lines)


#: what the demo writes into its output directory: (name, is a directory)
_OUTPUTS = (("zoo", True), ("tb", True), ("generated.safetensors", False), ("inspect", True),
            ("pruned.safetensors", False))


def _check_args(out: Any, seed: Any, candidates: Any, rounds: Any, threads: Any) -> Path:
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
        raise ConfigError(f"demo output directory must be a path, got {out!r}")
    from metanet.cli import out_dir

    # '~' expanded (as for metanet.save: it made a folder './~'); not an existing file, not under one, writable
    out = out_dir(out, "demo output (--out)")
    # what the stages write into it: a file or folder in the way failed only when its stage came, minutes in
    for name, want_dir in _OUTPUTS:
        p = out / name
        if p.exists() and p.is_dir() != want_dir:
            what = "a file, not a directory" if want_dir else "a directory, not a file"
            raise ConfigError(f"demo output {out} holds {name}, which is {what}: the demo writes its "
                              f"{'directory' if want_dir else 'file'} {name} there; remove it or give another "
                              "output directory")
    from metanet.cli import MAX_THREADS

    # upper bounds too: a seed past 2**63 or threads past MAX_THREADS failed (a traceback) only after the zoo stage
    for name, v, lo, hi in (("seed", seed, 0, 2**63 - 1), ("candidates", candidates, 2, None),
                            ("rounds", rounds, 1, None), ("threads", threads, 1, MAX_THREADS)):
        if name == "threads" and v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            raise ConfigError(f"demo {name} must be an integer >= {lo}" + (f" and <= {hi}" if hi else "")
                              + f", got {v!r}")
    _check_candidates_fit(candidates)
    return out


def _check_candidates_fit(candidates: int) -> None:
    """``candidates`` networks of the generate stage's architecture must fit this machine's memory: a huge K failed
    in that stage, after the zoo stage's minutes."""
    from metanet.errors import MetanetError
    from metanet.nets import Arch
    from metanet.writer.model import _check_fits_memory

    try:  # the architecture generate picks for mnist (1x28x28 images, 10 classes)
        _check_fits_memory(Arch.default_for((1, 28, 28), 10), candidates)
    except MetanetError as e:
        raise ConfigError(f"demo {e}") from None


#: files of the stages after the zoo, removed when a run starts: a run interrupted (Ctrl-C, killed) after writing
#: generated.safetensors left the earlier run's inspect/ and pruned.safetensors beside it, made from another network
_STAGE_FILES = ("generated.safetensors", "inspect/neurons.sqlite", "inspect/INDEX.md", "pruned.safetensors")


def _clear_outputs(out: Path) -> None:
    """Remove what an earlier demo run in ``out`` wrote after its zoo (the zoo is resumed, not rebuilt)."""
    for name in _STAGE_FILES:
        p = out / name
        if p.is_file():
            p.unlink()


def _clear_events(tb: Path) -> None:
    """Remove the event files of an earlier demo run in ``tb`` (TensorBoard would otherwise show both)."""
    if tb.is_dir():
        for f in tb.glob("events.out.tfevents.*"):
            f.unlink()


class _Log:
    """The demo's TensorBoard run: a ``SummaryWriter`` that remembers which tags it wrote (tests read them)."""

    def __init__(self, tb: Any) -> None:
        self.tb = tb  # from tensorboard_writer, which closes it
        self.tags: dict[str, Any] = {"scalars": [], "images": [], "histograms": [], "text": [], "graph": False}

    def scalar(self, tag: str, value: float, step: int = 0) -> None:
        if not math.isfinite(value):  # e.g. Kendall τ of a quick zoo with too few unseen networks
            return
        self.tb.add_scalar(tag, float(value), step)
        if tag not in self.tags["scalars"]:
            self.tags["scalars"].append(tag)

    def figure(self, tag: str, fig) -> None:
        self.tb.add_figure(tag, fig, 0, close=True)
        self.tags["images"].append(tag)

    def histogram(self, tag: str, values: torch.Tensor) -> None:
        self.tb.add_histogram(tag, values.detach().float().flatten(), 0)
        self.tags["histograms"].append(tag)

    def text(self, tag: str, text: str) -> None:
        self.tb.add_text(tag, text, 0)
        self.tags["text"].append(tag)

    def graph(self, model: torch.nn.Module, example: torch.Tensor) -> None:
        """The traced module graph, for TensorBoard's Graphs page (best effort: a tracing problem is skipped)."""
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.tb.add_graph(model, example)
            self.tags["graph"] = True
        except Exception:  # noqa: BLE001 - the network graph picture shows the same; never stop the demo for it
            self.tags["graph"] = False


# ------------------------------------------------------------------------------------------ figures
def _scatter(pred: list[float], true: list[float], tasks: list[str], seen: list[bool], tau: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    colours = {t: c for t, c in zip(sorted(set(tasks)), ("tab:blue", "tab:orange", "tab:green", "tab:red"))}
    for t in sorted(set(tasks)):
        for s, marker, alpha in ((True, "o", 0.35), (False, "^", 0.9)):
            idx = [i for i in range(len(pred)) if tasks[i] == t and seen[i] == s]
            if idx:
                ax.scatter([true[i] for i in idx], [pred[i] for i in idx], s=14, marker=marker, alpha=alpha,
                           color=colours[t], label=f"{t} ({'reader trained on it' if s else 'unseen by the reader'})")
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_xlabel("true test accuracy")
    ax.set_ylabel("reader's predicted accuracy")
    ax.set_title(f"shipped reader on the tiny zoo ({len(pred)} networks), Kendall τ {tau:.3f}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def _reward_curve(rounds: list[dict[str, Any]], task: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    x = [r["round"] for r in rounds]
    for key, label, style in (("reward_best", "reward best of K", "-o"), ("reward_mean", "reward mean", "-s"),
                              ("reward_worst", "reward worst", "-v"),
                              ("heldout_best_of_k", "test accuracy, best of K on val", "--o")):
        ys = [r.get(key) for r in rounds]
        if all(y is not None for y in ys):
            ax.plot(x, ys, style, label=label)
    ax.set_xticks(x)
    ax.set_xlabel("round (0 = before any update)")
    ax.set_ylabel("reward (val accuracy) / accuracy")
    ax.set_title(f"verification loop on held-out {task}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _prune_curve(curve: list[dict[str, float]], verified: float, verified_val: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([c["sparsity"] * 100 for c in curve], [c["val_accuracy"] for c in curve], "-o",
            label="magnitude pruning")
    ax.plot([verified * 100], [verified_val], "*", markersize=14, color="tab:red",
            label="verified pruning (necessity, kept)")
    ax.set_xlabel("weights removed (%)")
    ax.set_ylabel("mnist val accuracy")
    ax.set_title("pruning the generated network", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ the demo
def run_demo(
    out: str | os.PathLike = "metanet-demo",
    *,
    seed: int = 0,
    quick: bool = False,
    candidates: int = 8,
    rounds: int = 2,
    threads: int | None = None,
    progress: bool = True,
    verbose: bool = True,
) -> dict[str, Any]:
    """Run the demo end to end (see the module docstring) and return what it measured.

    Args:
        out: output directory (created): ``zoo/``, ``generated.safetensors``, ``inspect/``,
            ``pruned.safetensors``, ``tb/`` (the TensorBoard run). An existing directory is written into, its
            other files left alone; a rerun into it resumes the earlier run's zoo (the zoo does not depend on
            ``seed``) and first removes that run's other outputs (TensorBoard event files, the two networks,
            ``inspect/``'s database and index), so an interrupted run never leaves results of two runs side by side.
        seed: the same seed gives the same networks and numbers. It drives the generate, loop, inspect and prune
            stages; the zoo is the recipe's own (seeded by it) and so is its reading.
        quick: a reduced run (tests, smoke checks): 8 of the tiny zoo's 96 training runs, the loop on a digits
            task (:data:`QUICK_HELDOUT_TASK`), 300 examples for the inspection.
        candidates: K, networks written and verified at once by ``generate`` and per loop round.
        rounds: verification-loop update rounds.
        threads: torch threads (default: up to 2); restored afterwards, as is torch's global random state.
        progress: show the progress display (a bar on a terminal, one line per stage) on stderr.
        verbose: print the readable results (reports, the summary table) on stdout.

    Returns:
        A dict with ``out``, ``tensorboard``, ``seed`` and ``quick`` (as given), ``seconds``, ``stages``
        (``stage``/``result``/``seconds`` rows) and one entry per stage: ``zoo``, ``read``, ``generate``, ``loop``,
        ``inspect``, ``prune``; ``tags`` lists the TensorBoard tags written (``scalars``, ``images``,
        ``histograms``, ``text``; ``graph``: whether the traced module graph was written).

    Raises:
        MetanetError: a bad argument (a ``ConfigError``), or an output directory that holds a zoo of another size
            or recipe (a ``ZooError``).
    """
    import torch

    from metanet.io import tensorboard_writer

    out = _check_args(out, seed, candidates, rounds, threads)
    t_start = time.perf_counter()
    old_threads = torch.get_num_threads()
    old_rng = torch.random.get_rng_state()  # the stages seed torch's global RNG (the loop does): given back
    torch.set_num_threads(threads or max(1, min(2, os.cpu_count() or 1)))
    try:
        _check_zoo_dir(out / "zoo", QUICK_ZOO_RUNS if quick else None, quick)
        out.mkdir(parents=True, exist_ok=True)
        _clear_outputs(out)
        tb_dir = out / "tb"
        _clear_events(tb_dir)
        # the event file closed also after an error; a full disk under it names tb_dir
        with tensorboard_writer(tb_dir) as tb:
            log = _Log(tb)
            run = _Run(progress, verbose)
            say = run.say
            result: dict[str, Any] = {"out": str(out), "tensorboard": str(tb_dir), "seed": seed, "quick": quick}
            try:
                result["zoo"] = _stage_zoo(run, out, quick, say)
                result["read"] = _stage_read(run, out, result["zoo"], log, say)
                model, result["generate"] = _stage_generate(run, out, seed, candidates, log, say)
                result["loop"] = _stage_loop(run, seed, quick, candidates, rounds, log, say)
                result["inspect"] = _stage_inspect(run, out, model, quick, log, say)
                result["prune"] = _stage_prune(run, out, model, log, say)
                result["stages"] = run.rows
                result["seconds"] = round(time.perf_counter() - t_start, 1)
                table = run.table(result["seconds"])
                log.text("demo/summary", "    " + table.replace("\n", "\n    "))  # markdown code block
            finally:
                run.close()
        result["tags"] = log.tags
        if verbose:
            print("\n" + table)
            print(f"\ntotal {result['seconds']:.1f} s. Open the TensorBoard run with:\n"
                  f"  tensorboard --logdir {shlex.quote(str(tb_dir))}")  # a path with spaces: still one argument
        return result
    finally:
        torch.set_num_threads(old_threads)
        torch.random.set_rng_state(old_rng)


def _stage_zoo(run: _Run, out: Path, quick: bool, say) -> dict[str, Any]:
    from metanet.zoo import Zoo, build, load_recipe

    recipe = load_recipe(tiny_recipe())
    limit = QUICK_ZOO_RUNS if quick else None
    runs = limit or recipe.count
    with run.stage("zoo", f"building the tiny recipe ({runs} training runs) into {out / 'zoo'}") as row:
        summary = build(recipe, out / "zoo", limit=limit, progress=run.tty, threads=1)
        with Zoo(out / "zoo") as zoo:
            n, zoo_tasks = len(zoo), zoo.tasks
        row["result"] = (f"{n} networks on {', '.join(zoo_tasks)} from {runs} runs ({summary.units_built} units "
                         f"trained, {summary.units_skipped} reused)")
    return {"path": str(out / "zoo"), "networks": n, "runs": runs, "units_built": summary.units_built,
            "units_skipped": summary.units_skipped}


def _check_zoo_dir(path: Path, limit: int | None, quick: bool) -> None:
    """A zoo left by a run of the other size, or another recipe's zoo, cannot be resumed: say so in the demo's
    terms, before any work (the zoo stage found another recipe only after the earlier run's outputs were gone)."""
    import json

    from metanet.zoo import Store, load_recipe

    if not (path / "index.sqlite").is_file():
        return
    store = Store(path)
    try:
        meta = store.meta()
    finally:
        store.close()
    built = meta.get("limit")
    if "recipe_sha256" in meta and meta["recipe_sha256"] != load_recipe(tiny_recipe()).fingerprint():
        raise ZooError(f"{path} holds a zoo of another recipe ({meta.get('recipe')!r}), not the demo's tiny recipe; "
                       f"use another --out directory")
    if built is not None and built != json.dumps(limit):
        other = "a full-size" if quick else "a --quick"
        raise ZooError(f"{path} holds the zoo of {other} demo run; use another --out directory (or delete {path})")


def _stage_read(run: _Run, out: Path, zoo_info: dict, log: "_Log", say) -> dict[str, Any]:
    import torch

    import metanet
    from metanet.nets import Arch
    from metanet.reader import Reader
    from metanet.reader.lightning import kendall_tau
    from metanet.zoo import Zoo, load_recipe
    from metanet.zoo.dataset import split_runs

    with run.stage("read", "the shipped reader reads every network of the zoo") as row:
        reader = Reader.load().eval()
        # the networks the reader never trained on: its run split is over all of the recipe's runs
        recipe = load_recipe(tiny_recipe())
        train_runs = split_runs([r.index for r in recipe.runs()], _READER_SPLIT["fractions"],
                                _READER_SPLIT["seed"])["train"]
        excluded = {str(Arch.coerce(a)) for a in _READER_SPLIT["exclude_archs"]}

        def seen_by_reader(n) -> bool:
            return n.run in train_runs and str(n.arch) not in excluded

        with Zoo(zoo_info["path"]) as zoo:
            nets = [n for n in zoo.select(diverged=False) if math.isfinite(n.test_acc)]
            by_arch: dict[str, list] = {}
            for n in nets:
                by_arch.setdefault(str(n.arch), []).append(n)
            pred: dict[int, float] = {}
            with torch.no_grad():
                for members in by_arch.values():  # one vectorised encoding + one reader pass per architecture
                    acc = reader(zoo.graphs([n.id for n in members]))["accuracy"].clamp(0, 1)
                    pred.update({n.id: float(a) for n, a in zip(members, acc)})
            # one network in full: the final checkpoint of the first mnist network the reader never saw
            pick = next((n for n in nets if n.final and n.task == "mnist" and not seen_by_reader(n)),
                        next(n for n in nets if n.final))
            one = metanet.read(zoo.load(pick.id), reader=reader)
        p = [pred[n.id] for n in nets]
        y = [float(n.test_acc) for n in nets]
        seen = [seen_by_reader(n) for n in nets]
        pt, yt = torch.tensor(p, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        err = (pt - yt).abs()
        unseen = [i for i, s in enumerate(seen) if not s]
        tau = kendall_tau(pt, yt)
        tau_unseen = kendall_tau(pt[unseen], yt[unseen]) if len(unseen) > 2 else math.nan
        mae = float(err.mean())
        mae_unseen = float(err[unseen].mean()) if unseen else math.nan
        log.scalar("reader/kendall_tau", tau)
        log.scalar("reader/kendall_tau_unseen", tau_unseen)
        log.scalar("reader/abs_error_mean", mae)
        log.scalar("reader/abs_error_mean_unseen", mae_unseen)
        log.histogram("reader/abs_error", err)
        log.figure("reader/accuracy_scatter", _scatter(p, y, [n.task for n in nets], seen, tau))
        row["result"] = (f"{len(nets)} networks: Kendall τ {tau:.3f} (the {len(unseen)} it never saw: "
                         f"{tau_unseen:.3f}), mean |error| {mae:.3f}")
    hp = pick.hparams
    note = "never seen by the reader" if not seen_by_reader(pick) else "one the reader trained on"
    # the summary row's τ and |error| say neither what they compare nor what 1 means: said once here
    say(f"reader on the zoo's {len(nets)} networks, predicted vs true test accuracy: Kendall τ {tau:.3f} (1 = the "
        f"same order; {tau_unseen:.3f} on the {len(unseen)} it never trained on), mean |predicted - true| {mae:.3f}")
    say(f"read network {pick.id} ({pick.arch}, {pick.task}, epoch {pick.epoch}, run {pick.run}: {note}):"
        f"\n  accuracy  predicted {one['accuracy']:.3f}  true {pick.test_acc:.3f}"
        f"\n  task      predicted {one['task']}  true {pick.task}"
        f"\n  optimizer predicted {one['hyperparameters']['optimizer']}  true {hp.get('optimizer')}"
        f"\n  lr        predicted {one['hyperparameters']['lr']:.2g}  true {hp.get('lr', math.nan):.2g}"
        f"\n  backdoor probability {one['backdoor']:.2f}"
        f"{' (weights and trigger scan)' if one.get('trigger_scan') else ''} (the tiny zoo has no backdoors)")
    return {"kendall_tau": tau, "kendall_tau_unseen": tau_unseen, "abs_error_mean": mae,
            "abs_error_mean_unseen": mae_unseen, "networks": len(nets), "unseen_networks": len(unseen),
            "network": {"id": pick.id, "arch": str(pick.arch), "task": pick.task,
                        "seen_by_reader": seen_by_reader(pick), "true_accuracy": pick.test_acc, "predicted_accuracy": one["accuracy"],
                        "predicted_task": one["task"], "backdoor": one["backdoor"],
                        "hyperparameters": one["hyperparameters"]}}


def _stage_generate(run: _Run, out: Path, seed: int, candidates: int, log: "_Log", say) -> tuple[Any, dict]:
    import torch

    import metanet
    from metanet.graph import plot

    with run.stage("generate", f"the shipped writer writes {candidates} networks for mnist, verified at once") as row:
        g = metanet.generate("a network that can read mnist", candidates=candidates, seed=seed)
        path = g.save(out / "generated.safetensors")
        r = g.report
        vals = [c["val_accuracy"] for c in r.candidates]
        for i, v in enumerate(vals):
            log.scalar("generate/candidate_val_accuracy", v, i)
        log.scalar("generate/chosen_test_accuracy", r.test.accuracy)
        for name, prm in g.model.state_dict().items():
            log.histogram(f"generated_weights/{name}", prm)
        log.figure("generate/network_graph", plot(g.model, max_edges=3000))
        log.graph(g.model, torch.zeros(1, 1, 28, 28))
        row["result"] = (f"{r.arch}: test accuracy {r.test.accuracy:.3f} (best of {candidates}, val "
                         f"{min(vals):.3f}-{max(vals):.3f}), 0 gradient steps")
    say(str(r))
    return g.model, {"arch": r.arch, "test_accuracy": r.test.accuracy, "val_accuracies": vals, "chosen": r.chosen,
                     "path": str(path), "seconds_write": r.seconds_write}


def _stage_loop(run: _Run, seed: int, quick: bool, candidates: int, rounds: int, log: "_Log", say) -> dict:
    from metanet import tasks
    from metanet.loop import improve, split_examples
    from metanet.nets import Arch
    from metanet.writer import Writer

    name = QUICK_HELDOUT_TASK if quick else HELDOUT_TASK
    with run.stage("loop", f"{rounds} rounds of the verification loop on held-out {name}") as row:
        task = tasks.get(name)
        x, y = task.split("test")  # the labelled examples a user would bring: test images, never trained on
        arch = Arch.default_for(task.input_shape, task.num_classes)
        lt = split_examples(x, y, arch, shots=20, val=20 if not quick else 10, test=None, seed=seed,
                            name=f"{name} (test images)")
        writer = Writer.load()
        _, hist = improve(writer, [lt], rounds=rounds, method="expert", candidates=candidates, heldout=[lt],
                          seed=seed)
        for r in hist.rounds:
            for key, tag in (("reward_mean", "loop/reward_mean"), ("reward_best", "loop/reward_best"),
                             ("reward_worst", "loop/reward_worst"), ("tracked_reward", "loop/tracked_reward"),
                             ("heldout_best_of_k", "loop/heldout_test_accuracy_best_of_k"),
                             ("heldout_k1", "loop/heldout_test_accuracy_k1"), ("diversity", "loop/diversity"),
                             ("loss", "loop/loss")):
                if r.get(key) is not None:
                    log.scalar(tag, r[key], r["round"])
        log.figure("loop/reward_curve", _reward_curve(hist.rounds, name))
        first, last = hist.rounds[0], hist.rounds[-1]
        row["result"] = (f"reward mean {first['reward_mean']:.3f} -> {last['reward_mean']:.3f}, best "
                         f"{first['reward_best']:.3f} -> {last['reward_best']:.3f}; test (best of K) "
                         f"{first['heldout_best_of_k']:.3f} -> {last['heldout_best_of_k']:.3f}")
    say(f"loop on {lt.name}: support {len(lt.support[1])}, val {len(lt.val[1])}, test {len(lt.test[1])} examples, "
        f"K={candidates}; reward: a candidate's val accuracy; round 0: the shipped writer before any update")
    for r in hist.rounds:
        say(f"  round {r['round']}: reward mean {r['reward_mean']:.3f} best {r['reward_best']:.3f} "
            f"worst {r['reward_worst']:.3f}; test accuracy (best of K on val) {r['heldout_best_of_k']:.3f}")
    keep = ("round", "reward_mean", "reward_best", "reward_worst", "tracked_reward", "heldout_best_of_k",
            "heldout_k1", "loss")
    return {"task": name, "support": len(lt.support[1]), "val": len(lt.val[1]), "test": len(lt.test[1]),
            "rounds": [{k: r[k] for k in keep if k in r} for r in hist.rounds]}


def _stage_inspect(run: _Run, out: Path, model, quick: bool, log: "_Log", say) -> dict:
    import metanet
    from metanet.inspect import NeuronDB
    from metanet.inspect.pictures import ablation_heatmap, weight_grid

    with run.stage("inspect", "what every neuron of the generated network does (mnist test split)") as row:
        db = metanet.inspect(model, "mnist", max_examples=300 if quick else None)
        db.save(out / "inspect")
        db = NeuronDB.load(out / "inspect")  # the pictures are drawn from the saved database
        n, layers = len(db), db.layers
        dead = sum(1 for r in db if r["dead"])
        supporting = sum(1 for r in db if r["supports"])
        log.figure("inspect/first_layer_weights", weight_grid(model, (1, 28, 28), db))
        for layer in layers:
            log.figure(f"inspect/ablation_heatmap_layer{layer}", ablation_heatmap(db, layer))
        log.text("inspect/INDEX", db.index_md())
        row["result"] = f"{n} neurons: {dead} dead, {supporting} needed by a class; {out / 'inspect' / 'INDEX.md'}"
    return {"path": str(out / "inspect"), "neurons": n, "dead": dead, "supporting": supporting, "layers": layers}


def _stage_prune(run: _Run, out: Path, model, log: "_Log", say) -> dict:
    import metanet
    from metanet import edit
    from metanet.io import load_meta

    pct = round(PRUNE_TARGET * 100)
    with run.stage("prune", f"magnitude-pruning curve, then a verified prune of {pct}% of the weights") as row:
        curve = []
        for s in PRUNE_SPARSITIES:  # the baseline: plain magnitude pruning, measured on val
            res = edit.prune(model, s, "mnist", split="val")
            curve.append({"sparsity": res.report.details["sparsity"], "val_accuracy": res.report.after.accuracy})
        # the verified edit: connections removed in blocks, each block kept only if val accuracy stays within
        # the tolerance; the report compares before/after on the test split
        result = edit.prune(model, PRUNE_TARGET, "mnist", method="necessity", tolerance=PRUNE_TOLERANCE,
                            calib_split="val", split="test")
        # with generated.safetensors' metadata, as `metanet edit` keeps a file's: the module alone gave a file that
        # named no task, so `metanet verify DIR/pruned.safetensors` without --task was an error
        gen = out / "generated.safetensors"
        path = result.save(out / "pruned.safetensors", meta={**load_meta(gen), "edited_from": str(gen)})
        rep = result.report
        verified_val = metanet.verify(result.model, "mnist", split="val").accuracy
        for c in curve:
            log.scalar("prune/magnitude_val_accuracy", c["val_accuracy"], round(c["sparsity"] * 100))
        log.scalar("prune/verified_val_accuracy", curve[0]["val_accuracy"], 0)
        log.scalar("prune/verified_val_accuracy", verified_val, pct)
        log.scalar("prune/verified_test_accuracy", rep.before.accuracy, 0)
        log.scalar("prune/verified_test_accuracy", rep.after.accuracy, pct)
        log.figure("prune/curve", _prune_curve(curve, rep.details["sparsity"], verified_val))
        for name, prm in result.model.state_dict().items():
            if name.endswith("weight"):
                log.histogram(f"pruned_weights/{name}", prm)
        row["result"] = (f"{rep.details['sparsity']:.0%} of weights removed: test accuracy {rep.before.accuracy:.3f} "
                         f"-> {rep.after.accuracy:.3f} (magnitude pruning alone: val "
                         f"{curve[0]['val_accuracy']:.3f} -> {_at(curve, PRUNE_TARGET):.3f})")
    say("magnitude-pruning curve (mnist val accuracy by weights removed): "
        + ", ".join(f"{c['sparsity']:.0%} {c['val_accuracy']:.3f}" for c in curve))
    say(str(rep))
    return {"curve": curve, "sparsity": rep.details["sparsity"], "test_accuracy_before": rep.before.accuracy,
            "test_accuracy_after": rep.after.accuracy, "val_accuracy_after": verified_val, "path": str(path)}


def _at(curve: list[dict[str, float]], sparsity: float) -> float:
    """The curve's val accuracy at the sparsity closest to ``sparsity``."""
    return min(curve, key=lambda c: abs(c["sparsity"] - sparsity))["val_accuracy"]


# ------------------------------------------------------------------------------------------ CLI
def _cli(args: argparse.Namespace) -> int:
    run_demo(args.out, seed=args.seed, quick=args.quick, candidates=args.candidates, rounds=args.rounds,
             threads=args.threads)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``metanet demo`` subcommand to ``sub`` (see :data:`metanet.cli.COMMANDS`)."""
    from metanet.cli import seed_int, thread_count

    p = sub.add_parser("demo", help="the whole system end to end in a few minutes, with a TensorBoard run",
                       description="Build the tiny zoo, read it with the shipped reader, generate a network for "
                                   "MNIST, run the verification loop on a held-out task, inspect and prune the "
                                   "generated network; log everything to OUT/tb for TensorBoard.")
    p.add_argument("--out", default="metanet-demo", help="output directory (default: metanet-demo)")
    p.add_argument("--seed", type=seed_int, default=0, help="the same seed gives the same results (default 0)")
    p.add_argument("--quick", action="store_true", help="a reduced run (fewer zoo networks and examples)")
    p.add_argument("--candidates", type=int, default=8, help="K networks written and verified at once (default 8)")
    p.add_argument("--rounds", type=int, default=2, help="verification-loop rounds (default 2)")
    p.add_argument("--threads", type=thread_count, default=None, help="torch threads (default: up to 2)")
    p.set_defaults(run=_cli)
