"""Run every benchmark and write ``bench/RESULTS.md`` (``RESULTS.quick.md`` at CI size): ratios, accuracies, machine.

Two sizes:

* default (CI-friendly): each benchmark's ``--quick`` size, on small zoos built here (``zoo/tiny.yaml`` and the
  first runs of ``zoo/backdoor-mlp.yaml``); about 20 minutes on 2 cores. Results go to ``bench/results/*.quick.json``.
* ``--full``: each benchmark at its full size, on the full zoos (``zoo/mnist-mlp.yaml``, ``zoo/backdoor-mlp.yaml``,
  ``zoo/multitask-mlp.yaml``, ``zoo/tiny.yaml``), built first if missing (about 7 minutes for the four with 2
  workers on a quiet machine).
  Results go to ``bench/results/*.json``.

Every benchmark runs in its own process (one after the other, so they never compete for the cores); one that fails,
or whose zoo cannot be built, is reported as failed in the table and the run goes on (exit code 1 at the end).
``--only`` and ``--skip`` select benchmarks by name; ``--table-only`` rewrites ``RESULTS.md`` from the JSON files
already there.

    python bench/run_all.py                     # CI size
    python bench/run_all.py --full --zoos zoos   # the repository's zoos/ folder, as train/*.yaml
    python bench/run_all.py --only verify_batched,graph_encode
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
REFINE_WRITER = str(BENCH / "data" / "writer_steps2.safetensors")  # see bench/data/README.md
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet.io import atomic_write  # noqa: E402


def get(d: Any, path: str, default: Any = None) -> Any:
    """``get(d, "a.b.0.c")``: a value deep in nested dicts/lists, or ``default`` when any step is missing."""
    for key in path.split("."):
        if isinstance(d, dict) and key in d:
            d = d[key]
        elif isinstance(d, list) and key.lstrip("-").isdigit() and -len(d) <= int(key) < len(d):
            d = d[int(key)]
        else:
            return default
    return d


@dataclass
class Figure:
    """One row of the table: a figure read from the benchmark's JSON, and its goal."""

    name: str
    path: str | Callable[[dict], Any]
    goal: str = ""
    met: Callable[[Any], bool] | None = None
    fmt: str = "{:.3f}"

    def value(self, data: dict) -> Any:
        return self.path(data) if callable(self.path) else get(data, self.path)


@dataclass
class Bench:
    """A benchmark script and how to run it at each size."""

    name: str
    issue: int
    quick: list[str]
    full: list[str]
    figures: list[Figure]
    zoos: tuple[str, ...] = ()  # zoo recipes it needs: {name} in the args is replaced by the zoo's directory
    script: str | None = None  # bench/<script>.py when one script serves two benchmarks (default: name)

    def out(self, full: bool) -> Path:
        return RESULTS / f"{self.name}{'' if full else '.quick'}.json"


def _backdoor_summary(mode: str, key: str) -> Callable[[dict], Any]:
    return lambda d: get(d, f"backdoor.summary.{mode}.all.{key}")


def _blind_success(d: dict) -> Any:
    """Blind repair is slow; a full run may keep it in its own file (``bench/repair.py --modes blind``)."""
    blind = RESULTS / "repair.blind.json"  # full size: a CI-size table must not show a full-size figure
    if get(d, "backdoor.summary.blind.all") is None and not d.get("quick") and blind.is_file():
        d = json.loads(blind.read_text())
    return get(d, "backdoor.summary.blind.all.success_rate"), get(d, "backdoor.summary.blind.all.n")


def _controls_drop(d: dict) -> Any:
    """Largest accuracy drop of the clean controls over the repair modes run (None when no control was repaired:
    a mode without controls has ``drop_points_max: null``, which ``max`` cannot compare)."""
    drops = [get(d, f"backdoor.summary.{m}.controls.drop_points_max") for m in ("known", "blind")]
    drops = [x for x in drops if x is not None]
    return max(drops) if drops else None


def _loop_best(d: dict) -> Any:
    winner = d.get("winner")
    return get(d, f"methods.{winner}.final.ratio_vs_sgd") if winner else None


def _refine_gains(d: dict) -> Any:
    """Mean accuracy gain of refinement by weight perturbation, activity perturbation and SGD (None if absent)."""
    rows = get(d, "refinement.tasks") or []
    if not rows or any(m not in rows[0] for m in ("perturbation", "activity", "sgd")):
        return None
    return tuple(sum(r[m] - r["before"] for r in rows) / len(rows) for m in ("perturbation", "activity", "sgd"))


BENCHES = [
    Bench("verify_batched", 3, ["--quick"], [], [
        Figure("vectorised verify vs a loop over networks", "speedup", "", None, "{:.1f}x"),
    ]),
    Bench("graph_encode", 4, ["--quick"], [], [
        Figure("to_graph worst-case cost vs copying the state dict", "goal.worst_ratio", "<= 5x",
               lambda v: v <= 5.0, "{:.1f}x"),
    ]),
    Bench("zoo_throughput", 5, ["--population", "16", "--sequential", "4"], [], [
        Figure("population training vs one network at a time", "speedup", ">= 10x", lambda v: v >= 10, "{:.1f}x"),
        Figure("achieved GFLOP/s / plain fp32 matmul", "fraction_of_matmul", ">= 0.6", lambda v: v >= 0.6),
    ]),
    Bench("reader", 6, ["--zoos", "{tiny}", "{backdoor-mlp}", "--max-nets", "400", "--max-test", "60",
                        "--exclude-archs", "mlp:784-32-10:relu"],
          ["--zoos", "{mnist-mlp}", "{backdoor-mlp}", "{multitask-mlp}", "{tiny}"], [
              Figure("Kendall tau, accuracy from weights, all test zoos pooled: reader / StatNN",
                     lambda d: (get(d, "pooled.reader_tau"), get(d, "pooled.statnn_tau")), ">= 0.95 and StatNN + 0.03",
                     lambda v: v[0] >= 0.95 and v[0] >= v[1] + 0.03, "{0:.3f} / {1:.3f}"),
              Figure("Kendall tau ceiling: the networks' recorded val accuracy vs their test accuracy (pooled)",
                     "pooled.val_acc_tau_ceiling", "", None),
              Figure("Kendall tau on trained checkpoints (epoch > 0), pooled: reader / ceiling",
                     lambda d: (get(d, "pooled.reader_tau_trained_only"),
                                get(d, "pooled.val_acc_tau_ceiling_trained_only")), "", None, "{0:.3f} / {1:.3f}"),
              Figure("Kendall tau on mnist-mlp: reader / StatNN",
                     lambda d: (get(d, "zoos.mnist-mlp.reader_tau"), get(d, "zoos.mnist-mlp.statnn_tau")), "", None,
                     "{0:.3f} / {1:.3f}"),
              Figure("Kendall tau on held-out architectures (pooled): reader / StatNN",
                     lambda d: (get(d, "pooled.heldout_arch_reader_tau"), get(d, "pooled.heldout_arch_statnn_tau")),
                     ">= 0.9", lambda v: v[0] >= 0.9, "{0:.3f} / {1:.3f}"),
              Figure("backdoor AUROC, trained checkpoints (epoch > 0): reader with trigger scan / reader (weights) / "
                     "StatNN",
                     lambda d: (get(d, "zoos.backdoor-mlp.reader_scan_backdoor_auroc_trained_only"),
                                get(d, "zoos.backdoor-mlp.reader_backdoor_auroc_trained_only"),
                                get(d, "zoos.backdoor-mlp.statnn_backdoor_auroc_trained_only")), ">= 0.98",
                     lambda v: v[0] >= 0.98, "{0:.3f} / {1:.3f} / {2:.3f}"),
              Figure("backdoor AUROC, trained checkpoints: 95 % interval, bootstrap over training runs: reader with "
                     "trigger scan; reader (weights)",
                     lambda d: (*(get(d, "zoos.backdoor-mlp.reader_scan_backdoor_auroc_trained_only_ci95") or [None] * 2),
                                *(get(d, "zoos.backdoor-mlp.reader_backdoor_auroc_trained_only_ci95") or [None] * 2)),
                     "", None, "{0:.3f}–{1:.3f}; {2:.3f}–{3:.3f}"),
              Figure("backdoor AUROC, working backdoors (attack success and clean accuracy >= 0.5): reader with "
                     "trigger scan / reader (weights) / StatNN",
                     lambda d: (get(d, "zoos.backdoor-mlp.reader_scan_backdoor_auroc_effective"),
                                get(d, "zoos.backdoor-mlp.reader_backdoor_auroc_effective"),
                                get(d, "zoos.backdoor-mlp.statnn_backdoor_auroc_effective")), "", None,
                     "{0:.3f} / {1:.3f} / {2:.3f}"),
              Figure("backdoor AUROC, weak backdoors (the rest) vs the clean checkpoints: reader with trigger scan / "
                     "reader (weights)",
                     lambda d: (get(d, "zoos.backdoor-mlp.reader_scan_backdoor_auroc_weak"),
                                get(d, "zoos.backdoor-mlp.reader_backdoor_auroc_weak")), "", None,
                     "{0:.3f} / {1:.3f}"),
              Figure("backdoor AUROC, every checkpoint, epoch-0 ones (untouched initialisations) counted clean: "
                     "reader with trigger scan / reader (weights)",
                     lambda d: (get(d, "zoos.backdoor-mlp.reader_scan_backdoor_auroc_untrained_as_clean"),
                                get(d, "zoos.backdoor-mlp.reader_backdoor_auroc_untrained_as_clean")), "", None,
                     "{0:.3f} / {1:.3f}"),
              Figure("writer-generated networks (one per task of the reader): task named; accuracy MAE; Kendall tau",
                     lambda d: (get(d, "generated.task_accuracy"), get(d, "generated.accuracy_mae"),
                                get(d, "generated.tau")), "", None, "{0:.3f}; {1:.3f}; {2:.3f}"),
              Figure("networks read per minute, MLP 784-32-10, 2 threads: reader / reader with trigger scan",
                     lambda d: (get(d, "speed.networks_per_minute"),
                                get(d, "zoos.backdoor-mlp.scan_networks_per_minute")), ">= 10,000 (reader)",
                     lambda v: v[0] >= 10000, "{0:,.0f} / {1:,.0f}"),
          ], zoos=("tiny", "backdoor-mlp", "mnist-mlp", "multitask-mlp")),
    Bench("generate", 7, ["--quick"], [], [
        Figure("seen tasks: generated / SGD test accuracy (mean)", "seen.summary.ratio_k8_mean", ">= 0.97",
               lambda v: v >= 0.97),
        Figure("held-out tasks (50 shots): generated / Adam on the same examples", "heldout.summary.ratio_k8_mean",
               ">= 1.0", lambda v: v >= 1.0),
        Figure("held-out tasks, support shift augmentation: generated with / without; Adam / Adam on the augmented "
               "support (mean accuracy)",
               lambda d: (get(d, "heldout.summary.generated_mean"),
                          get(d, "heldout.summary.augmentation.no_augment_k8_mean"),
                          get(d, "heldout.summary.sgd_mean"),
                          get(d, "heldout.summary.augmentation.sgd_augmented_mean")),
               "", None, "{0:.3f} / {1:.3f}; {2:.3f} / {3:.3f}"),
        Figure("held-out tasks above nearest-class-mean", lambda d: (get(d, "heldout.summary.above_ncm_k8"),
                                                                    get(d, "heldout.summary.n")),
               "all", lambda v: None not in v and v[0] == v[1], "{0} of {1}"),
        Figure("writing speed vs SGD to the same accuracy (median; a lower bound on tasks where SGD never reached it)",
               "seen.summary.speed_ratio_k8_median",
               ">= 100x", lambda v: v >= 100, "{:.1f}x"),
        Figure("not a copy: agreement with the nearest zoo network, generated / SGD (seen tasks, mean)",
               lambda d: (get(d, "seen.summary.agreement_zoo_gen_mean"), get(d, "seen.summary.agreement_zoo_sgd_mean")),
               "generated <= SGD", lambda v: v[0] <= v[1], "{0:.3f} / {1:.3f}"),
    ]),
    # the shipped writer against one trained by the same recipe with 2 refinement passes (train/writer.yaml with
    # --model.steps=2), on the held-out tasks
    Bench("generate_refine", 7, ["--quick", "--skip", "seen,archs", "--zoo", "none", "--refine-writer", REFINE_WRITER],
          ["--skip", "seen,archs", "--zoo", "none", "--refine-writer", REFINE_WRITER], [
        Figure("recursive refinement (2 passes) minus single pass, held-out tasks (test accuracy, mean)",
               lambda d: (get(d, "refinement.summary.heldout.gain_k8_mean"), get(d, "refinement.summary.winner")),
               "keep the winner", None, "{0:+.4f} (keep: {1})"),
    ], script="generate"),
    Bench("loop", 8, ["--quick"], [], [
        Figure("held-out tasks, zero-shot: generated / SGD (support augmentation off)",
               lambda d: (get(d, "zero_shot.ratio_vs_sgd"), get(d, "zero_shot_no_augment.ratio_vs_sgd")), "", None,
               "{0:.3f} ({1:.3f})"),
        Figure("held-out tasks after the loop (best method): generated / SGD", _loop_best, ">= 1.05",
               lambda v: v >= 1.05),
        Figure("held-out tasks after the loop and gradient-free refinement: generated / SGD (weight / activity "
               "perturbation)",
               lambda d: (get(d, "refinement.perturbation_ratio_vs_sgd_baseline"),
                          get(d, "refinement.activity_ratio_vs_sgd_baseline")),
               "", None, "{0:.3f} / {1:.3f}"),
        Figure("best-of-K minus K=1 (test accuracy, zero-shot), selection: cross-fit / val split",
               lambda d: (get(d, "zero_shot.best_of_k_minus_k1_crossfit"), get(d, "zero_shot.best_of_k_minus_k1_val")),
               "> 0", lambda v: v[0] > 0, "{0:+.4f} / {1:+.4f}"),
        Figure("best-of-K minus mean of the K (expected K=1), zero-shot, over seeds: cross-fit / val split",
               lambda d: (get(d, "selection_margins.minus_mean_crossfit.mean"),
                          get(d, "selection_margins.minus_mean_crossfit.se"),
                          get(d, "selection_margins.minus_mean_val.mean"), get(d, "selection_margins.minus_mean_val.se")),
               "", None, "{0:+.4f} ± {1:.4f} / {2:+.4f} ± {3:.4f}"),
        Figure("refinement of the final networks, mean accuracy gain: weight / activity perturbation / SGD",
               _refine_gains, "", None, "{0:+.4f} / {1:+.4f} / {2:+.4f}"),
    ]),
    Bench("repair", 9, ["--quick", "--zoo", "{backdoor-mlp}", "--prune-zoo", "{tiny}"],
          ["--zoo", "{backdoor-mlp}", "--runs", "384", "--prune-zoo", "{mnist-mlp}"], [
              Figure("backdoor repair, known trigger: success rate", _backdoor_summary("known", "success_rate"),
                     "1.0", lambda v: v >= 0.999),
              Figure("backdoor repair, blind: success rate", _blind_success, "", None, "{0:.3f} (n={1})"),
              Figure("clean controls: max accuracy drop (points)", _controls_drop,
                     "<= 1", lambda v: v <= 1.0, "{:.2f}"),
          ], zoos=("backdoor-mlp", "tiny", "mnist-mlp")),
    Bench("scale_out", 10, ["--quick"], [], [
        Figure("zoo build on Ray: 2 CPUs vs 1", "zoo_ray.speedup", "", None, "{:.2f}x"),
        Figure("reader training: DDP 2 processes vs 1", "reader_ddp.speedup_ddp_vs_1_process", "", None,
               "{:.2f}x"),
    ]),
]
#: runs of a recipe built for the CI-size runs (the full size builds the whole recipe)
QUICK_ZOO_LIMIT = {"backdoor-mlp": 24}


def ensure_zoo(recipe: str, zoos: Path, full: bool) -> Path:
    """The directory of ``recipe``'s zoo under ``zoos``, built (or resumed) first if incomplete."""
    from metanet.zoo import build

    # CI-size zoos keep the recipe's name (benchmarks report per zoo directory name) in a folder of their own
    out = zoos / recipe if full else zoos / "ci-size" / recipe
    limit = None if full else QUICK_ZOO_LIMIT.get(recipe)
    print(f"[run_all] zoo {recipe} -> {out}" + (f" (first {limit} runs)" if limit else ""), flush=True)
    build(ROOT / "zoo" / f"{recipe}.yaml", out, limit=limit, workers=2 if full else 1)
    return out


def run_bench(b: Bench, full: bool, zoos: Path, python: str, failed_zoos: dict[str, str] | None = None) -> dict:
    """Run one benchmark in its own process; the record of what ran, how long, and its exit code.

    A zoo it needs that cannot be built is a failed run (exit code 1, with the reason in ``error``), not a traceback
    that ends the whole run; ``failed_zoos`` (recipe -> reason) keeps another benchmark from building it again."""
    failed_zoos = {} if failed_zoos is None else failed_zoos
    args = list(b.full if full else b.quick)
    t0 = time.perf_counter()
    if any("{" in a for a in args):
        needed = {z for z in b.zoos if any(f"{{{z}}}" in a for a in args)}
        dirs = {}
        for z in sorted(needed):
            if z not in failed_zoos:
                try:
                    dirs[z] = str(ensure_zoo(z, zoos, full))
                    continue
                except Exception as e:  # noqa: BLE001 - any failure of the build: report it, go on with the others
                    failed_zoos[z] = f"{type(e).__name__}: {e}"
                    print(f"[run_all] zoo {z} could not be built: {failed_zoos[z]}", flush=True)
            return {"bench": b.name, "command": "", "seconds": time.perf_counter() - t0, "exit_code": 1,
                    "error": f"zoo {z} could not be built ({failed_zoos[z]})"}
        args = [a.format(**dirs) if "{" in a else a for a in args]
    cmd = [python, str(BENCH / f"{b.script or b.name}.py"), *args, "--out", str(b.out(full))]
    print(f"[run_all] {' '.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT))).returncode
    return {"bench": b.name, "command": " ".join(cmd[1:]), "seconds": time.perf_counter() - t0, "exit_code": rc}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads()}


def _fmt(fig: Figure, v: Any) -> str:
    if v is None or (isinstance(v, tuple) and None in v):
        return "n/a"
    try:
        return fig.fmt.format(*v) if isinstance(v, tuple) else fig.fmt.format(v)
    except (ValueError, TypeError, IndexError):
        return str(v)


def table(full: bool, runs: dict[str, dict] | None = None) -> str:
    """``RESULTS.md``: one row per figure, read from the JSON files of this size."""
    m = machine()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python bench/run_all.py{' --full' if full else ''}` on {time.strftime('%Y-%m-%d')}. "
        f"{'Full' if full else 'CI'} size; each figure is read from the JSON file named in its row, where the "
        "protocol and every raw number are. Ratios are measured side by side in one run of their benchmark.",
        "",
        *([] if full else [
            "CI size is a smoke run of every benchmark, not a measurement: populations and task sets are small, and "
            "the reader rows use the first runs of each recipe, some of which the shipped reader was trained on. "
            "The figures to quote are in `RESULTS.md` (full size).", ""]),
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; Python {m['python']}, "
        f"torch {m['torch']} (CPU).",
        "",
        "| issue | benchmark | figure | measured | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for b in BENCHES:
        path = b.out(full)
        run = (runs or {}).get(b.name)
        size_note = ""
        if full and not path.is_file() and b.out(False).is_file() and not runs:
            path, size_note = b.out(False), " (CI size: no full run yet)"
        data = None
        if path.is_file() and not (run and run["exit_code"] != 0):
            try:
                data = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                data = None
        for fig in b.figures:
            if data is None:
                why = f"failed (exit {run['exit_code']})" if run and run["exit_code"] else "not run"
                if run and run.get("error"):
                    why = f"failed: {run['error'].split(' (')[0]}"  # the cause in full is in the run times list
                lines.append(f"| #{b.issue} | [{b.name}]({path.relative_to(BENCH)}) | {fig.name} | {why} | "
                             f"{fig.goal} | |")
                continue
            v = fig.value(data)
            missing = v is None or (isinstance(v, tuple) and None in v)
            ok = "" if fig.met is None or missing else ("yes" if fig.met(v) else "no")
            lines.append(f"| #{b.issue} | [{b.name}]({path.relative_to(BENCH)}) | {fig.name} | {_fmt(fig, v)}"
                         f"{size_note} | {fig.goal} | {ok} |")
    if runs:
        lines += ["", "Run times:", ""]
        lines += [f"- `{r['bench']}`: {r['seconds']:.0f} s, exit code {r['exit_code']}"
                  + (f": {r['error']}" if r.get("error") else "") for r in runs.values()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="full size (default: CI size)")
    p.add_argument("--zoos", default=None, metavar="DIR",
                   help="where zoos are found or built (default: ~/.cache/metanet/bench-zoos)")
    names = [b.name for b in BENCHES]
    p.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(names)} (default: all)")
    p.add_argument("--skip", default="", help="comma-separated benchmarks to leave out (default: none)")
    p.add_argument("--table-only", action="store_true", help="only rewrite RESULTS.md from existing JSON")
    p.add_argument("--results", default=None,
                   help="where to write the table (default: bench/RESULTS.md with --full, bench/RESULTS.quick.md without)")
    args = p.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    skip = [x for x in args.skip.split(",") if x]
    unknown = sorted(set(only + skip) - set(names))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    if args.results and Path(args.results).is_dir():  # found now, not when the table is written after the runs
        p.error(f"--results {args.results} is a directory; give a file path")
    runs: dict[str, dict] = {}
    if not args.table_only:
        zoos = Path(args.zoos or Path.home() / ".cache" / "metanet" / "bench-zoos")
        failed_zoos: dict[str, str] = {}
        for b in BENCHES:
            if (only and b.name not in only) or b.name in skip:
                continue
            runs[b.name] = run_bench(b, args.full, zoos, sys.executable, failed_zoos)
    text = table(args.full, runs)
    results = args.results or BENCH / ("RESULTS.md" if args.full else "RESULTS.quick.md")
    atomic_write(results, lambda tmp: Path(tmp).write_text(text))
    print(text)
    return 1 if any(r["exit_code"] for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
