"""Benchmark of the verification loop (issue 8, point 5): does the loop lift held-out accuracy, which update
method wins, which selection picks the best of K candidates, and what gradient-free refinement adds. One run, one
JSON (printed, and written to ``--out``).

Held-out tasks: exactly those of ``bench/generate.py`` (images of the data sets' *test* splits, random class
subsets / orders, permutations, inversions, mnist+fashion mixes), each given only as 50 labelled examples per class
(digits: 18), scored on up to 100 per class disjoint query examples (the *test* here). Test labels are never used
by any method or choice. The 50 are cut per class 4:1 into *fit* (the loop task's support) and *val*, as in
``bench/generate.py``; every writer network is finally written from all 50.

* **selection** (how the best of K candidates is chosen; ``metanet.loop.select``), both measured side by side in
  every evaluation of this run: ``val`` — K written from fit, scored on val (10 per class); ``crossfit`` — all 50
  cut per class into ``--folds`` folds, the K written from the other folds (same seed) and scored on each fold,
  rewards averaged over folds. Either way the chosen candidate is re-written (same seed) from all 50. Reported
  against K=1 (one network written from the 50), the mean of the K candidates (the expected K=1 accuracy, free of
  the luck of one draw) and the oracle (the best of K on test: the ceiling of any selection). Zero-shot, the
  comparison is repeated over ``--selection-seeds`` seeds (other candidate draws and folds) and reported as mean
  difference ± standard error over (task, seed) pairs, since one draw of 8 candidates is a noisy measurement.
  ``zero_shot_no_augment``: the zero-shot evaluation once more with the writer's support augmentation switched
  off (``augment="none"``), to show what that fixed prior contributes.
* **loop curve**, per update method (``expert``, ``awr``, ``pg``, and ``distil_all``: expert iteration with every
  candidate kept — the same distillation with the reward ignored, the control that shows whether selection by
  reward matters; and, on request, ``expert_refined``: expert iteration whose teacher is each task's winner refined
  gradient-free first — ``--loop-refine-steps`` steps of activity perturbation on the task's fit examples, the
  loop's ``refine_steps`` — so that refinement is distilled back into the writer within the loop, issue 8 point
  4): starting from the shipped writer, ``--rounds`` rounds over the held-out tasks (the loop uses
  the tasks' fit and val only; rewards by ``--selection``); per round: test accuracy of the best-of-K candidate
  (chosen by ``--selection``; by each selection with ``--compare-rounds``), K=1, mean and oracle, the tracked
  reward, the round's reward mean/best/worst, diversity, seconds. The tracked reward is the mean reward (by
  ``--selection``, on the tasks' labelled examples) of the K candidates of fixed seeds.
* **final**: each method's writer with the same protocol, against Adam on the same examples (lr x epochs sweep on
  fit, chosen on val, re-trained on all 50; median over seeds) and NCM. The winning method is chosen on the tracked
  reward, never on test.
* **refinement**: the winning writer's final network per task (chosen by ``--selection``), refined on its 50
  examples by weight perturbation (``metanet.refine(method="perturbation")``), by activity (node) perturbation
  (``method="activity"``), both gradient-free, and by backprop fine-tuning (``method="sgd"``), same steps and lr.

Usage::

    python bench/loop.py --quick     # CI size: 6 tasks, 4 rounds (~2 min on 2 shared cores)
    python bench/loop.py             # full size: 24 tasks, 10 rounds (~25 min on 2 shared cores)

Time goes mostly into writes. Choosing by ``"val"`` costs one write per task (the K candidates from fit) on top of
the re-write from all 50; ``--selection crossfit`` costs ``F`` (5), in the loop's rewards as well: with it, the
full size took ~1-1.5 h (writer of commit 9668828, 70-120 s per round over the 24 tasks instead of ~25 s).
``expert_refined`` adds, every round, the refinement of each task's winner: with 100 steps its 10 rounds took ~32 min
on 2 cores shared with other work (plain ``expert`` ~8 min in the same run).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet.errors import MetanetError  # noqa: E402
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.loop import (DEFAULT_SELECTION, METHODS, REFINE_METHODS, SELECTIONS, LoopConfig, LoopTask,  # noqa: E402
                          choose, evaluate, improve, refine)
from metanet.nets import Arch  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
G = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(G)

GOALS = {"loop_vs_sgd": 1.05, "best_of_k_vs_k1": "measurable margin (> 0)"}
r4, log = G.r4, G.log


# bench methods beyond the loop's METHODS: each is one of them with other options (see method_options)
VARIANTS = ("distil_all", "expert_refined")


def method_options(m: str, candidates: int, loop_refine_steps: int) -> tuple[str, dict]:
    """The loop method and :class:`LoopConfig` options of the bench method ``m`` (a METHODS name or a VARIANT)."""
    if m == "distil_all":  # every candidate kept: the reward is ignored
        return "expert", {"keep": candidates}
    if m == "expert_refined":  # the winner refined by activity perturbation is the teacher
        return "expert", {"refine_steps": loop_refine_steps, "refine_method": "activity"}
    return m, {}


def heldout_tasks(quick: bool, n: int | None) -> list[dict]:
    specs = G.heldout_specs(False)
    if quick:  # one of each kind of base, small first
        specs = [s for s in specs if s["base"] == "digits"][:2] + [s for s in specs if s["base"] == "mnist1d"][:2] + [
            dict(base="mnist", k=3, permute=True), dict(base="fashion-mnist", k=4, invert=True)]
    if n:
        specs = specs[:n]
    out = []
    for i, spec in enumerate(specs):
        # the same seeds as bench/generate.py for the full list (index i of heldout_specs(False))
        j = G.heldout_specs(False).index(spec) if spec in G.heldout_specs(False) else 100 + i
        ep = G.make_heldout(j, spec, 50, 100)
        k = ep["k"]
        arch = Arch.default_for(ep["input_shape"], k)
        full = ep["support"]
        fit, val = G.split_fit_val(*full, k)
        # no index of the parts: check_disjoint then compares their inputs. The index this gave (fit as rows 0..n of
        # a pool "support", the query as a pool of its own) was not where the rows came from and made the check
        # vacuous: parts of different pools, or declared disjoint, were never compared
        lt = LoopTask(ep["name"], arch, k, fit, val, ep["query"])
        out.append({"ep": ep, "lt": lt, "full": full, "fit": fit, "val": val, "k": k, "arch": arch})
    return out


def summarise(ev: dict, base_rows: list[dict], selection: str) -> dict:
    """Held-out figures of one :func:`metanet.loop.evaluate` (``compare=True``) against the SGD baseline."""
    sgd_mean = sum(b["sgd"] for b in base_rows) / len(base_rows)
    out = {"test_best_of_k": r4(ev["best_of_k"]), "selection": selection, "test_k1": r4(ev["k1"]),
           "test_mean_candidate": r4(ev["mean"]), "test_oracle": r4(ev["oracle"])}
    for sel in SELECTIONS:
        out[f"test_best_of_k_{sel}"] = r4(ev[f"best_of_k_{sel}"])
        out[f"best_of_k_minus_k1_{sel}"] = r4(ev[f"best_of_k_{sel}"] - ev["k1"])
        out[f"best_of_k_minus_mean_{sel}"] = r4(ev[f"best_of_k_{sel}"] - ev["mean"])
        # tasks where the selection beat / lost to K=1
        d = [t[f"best_of_k_{sel}"] - t["k1"] for t in ev["tasks"]]
        out[f"vs_k1_wins_losses_{sel}"] = [sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)]
    out["ratio_vs_sgd"] = r4(ev["best_of_k"] / sgd_mean)
    out["ratio_vs_sgd_per_task_mean"] = r4(sum(t["best_of_k"] / b["sgd"] for t, b in zip(ev["tasks"], base_rows))
                                           / len(base_rows))
    out["per_task"] = [{"task": t["task"], **{k: r4(v) if isinstance(v, float) else v for k, v in t.items()
                                              if k != "task"}} for t in ev["tasks"]]
    return out


def selection_margins(writer, lts: list, kc: int, folds: int, seeds: int) -> dict:
    """Zero-shot best-of-K minus K=1 and minus the mean of the K, per selection, over ``seeds`` draws of candidates
    (and folds): mean ± standard error over (task, seed) pairs, and wins / losses against K=1."""
    diffs: dict[str, list[float]] = {}
    for s in range(seeds):
        ev = evaluate(writer, lts, candidates=kc, seed=1000 * s, folds=folds, compare=True)
        for t in ev["tasks"]:
            for sel in SELECTIONS:
                diffs.setdefault(f"minus_k1_{sel}", []).append(t[f"best_of_k_{sel}"] - t["k1"])
                diffs.setdefault(f"minus_mean_{sel}", []).append(t[f"best_of_k_{sel}"] - t["mean"])
            diffs.setdefault("oracle_minus_mean", []).append(t["oracle"] - t["mean"])
            diffs.setdefault("crossfit_minus_val", []).append(t["best_of_k_crossfit"] - t["best_of_k_val"])
    out: dict = {"seeds": seeds, "pairs": len(diffs["oracle_minus_mean"])}
    for key, d in diffs.items():
        n = len(d)
        se = statistics.stdev(d) / math.sqrt(n) if n > 1 else None
        out[key] = {"mean": r4(sum(d) / n), "se": r4(se), "wins": sum(x > 1e-9 for x in d),
                    "losses": sum(x < -1e-9 for x in d)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="CI-size run: 6 small held-out tasks (2 digits, 2 mnist1d, 1 mnist, 1 fashion-mnist), "
                         "4 rounds, 100 refinement steps, Adam swept over fewer epochs with 1 seed")
    ap.add_argument("--tasks", type=int, default=None,
                    help="use the first N held-out tasks (default: all, 24; 6 with --quick)")
    ap.add_argument("--rounds", type=int, default=None, help="loop rounds (default 10, 4 with --quick)")
    ap.add_argument("--tasks-per-round", type=int, default=None,
                    help="loop tasks per round (cycling through the held-out tasks; default: all)")
    ap.add_argument("--compare-rounds", action="store_true",
                    help="also score every round's held-out curve under every selection (zero-shot and final always)")
    ap.add_argument("--methods", default="expert,awr,pg,distil_all",
                    help="comma-separated update methods compared (default: all of expert,awr,pg,distil_all)")
    ap.add_argument("--candidates", type=int, default=8, help="K: candidates written per task (default 8)")
    ap.add_argument("--selection", default=DEFAULT_SELECTION, choices=SELECTIONS,
                    help=f"how the loop rewards candidates and how the final network is chosen (default "
                         f"{DEFAULT_SELECTION})")
    ap.add_argument("--folds", type=int, default=5, help="cross-fitting folds (default 5)")
    ap.add_argument("--selection-seeds", type=int, default=3,
                    help="zero-shot selection comparison over this many candidate draws (default 3)")
    ap.add_argument("--lr", type=float, default=1e-3, help="the loop's writer learning rate (default 0.001)")
    ap.add_argument("--refine-steps", type=int, default=None,
                    help="steps of each refinement method (default 300, 100 with --quick)")
    ap.add_argument("--loop-refine-steps", type=int, default=None,
                    help="method expert_refined: activity-perturbation steps refining each round's winner before it "
                         "is distilled into the writer (default 100)")
    ap.add_argument("--writer", default=None, help="writer checkpoint (default: the shipped one)")
    ap.add_argument("--out", default=None, help="where to write the JSON (default bench/results/loop.json, "
                    "loop.quick.json with --quick)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)
    # every argument is checked before the baselines (minutes): a bad one was a traceback once they were done
    for name in ("tasks", "rounds", "tasks_per_round", "selection_seeds", "refine_steps", "loop_refine_steps",
                 "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    valid = (*METHODS, *VARIANTS)
    names = [m for m in args.methods.split(",") if m]
    if not names or set(names) - set(valid) or len(set(names)) < len(names):
        ap.error(f"--methods: got {args.methods!r}; valid: comma-separated distinct names of {', '.join(valid)}")
    if args.loop_refine_steps is not None and "expert_refined" not in names:
        # only expert_refined refines within the loop: the option was silently ignored by every other method
        ap.error(f"--loop-refine-steps applies to method expert_refined only; --methods is {args.methods!r}")
    if args.loop_refine_steps is None:
        args.loop_refine_steps = 100
    try:
        for m in names:  # the loop's own checks (candidates, folds, refine steps: every evaluation also cross-fits)
            name, kw = method_options(m, args.candidates, args.loop_refine_steps)
            LoopConfig(method=name, candidates=args.candidates, selection=args.selection, folds=args.folds,
                       **{"keep": 1, **kw})
        LoopConfig(candidates=args.candidates, selection="crossfit", folds=args.folds)
    except MetanetError as e:
        ap.error(str(e))
    if args.writer is not None and not Path(args.writer).is_file():
        ap.error(f"--writer: writer checkpoint {args.writer} does not exist")
    if args.out and Path(args.out).is_dir():
        ap.error(f"--out {args.out} is a directory; give a file path")
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("metanet.loop").setLevel(logging.INFO)  # one line per loop round: progress of long runs
    rounds = args.rounds or (4 if args.quick else 10)
    rsteps = args.refine_steps or (100 if args.quick else 300)
    kc, sel, folds = args.candidates, args.selection, args.folds
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / ("loop.quick.json" if args.quick else "loop.json")
    cfg = {"sgd_seeds": 1 if args.quick else 3, "sweep_lrs": (1e-3, 3e-3, 1e-2),
           "sweep_epochs": (50, 100) if args.quick else (50, 100, 200)}
    try:
        base, wdesc = G.load_writer(args.writer)
    except MetanetError as e:
        ap.error(f"--writer: {e}")
    base.eval()
    t_all = time.perf_counter()
    tasks = heldout_tasks(args.quick, args.tasks)
    lts = [t["lt"] for t in tasks]
    for lt in lts:
        lt.check_disjoint()
    log(f"writer {wdesc}; {len(tasks)} held-out tasks; K={kc}; rounds={rounds}; selection={sel} ({folds} folds)")

    # baselines on the same 50 examples
    base_rows = []
    t0 = time.perf_counter()
    for t in tasks:
        t1 = time.perf_counter()
        sgd = G.sgd_same_examples(t["arch"], t["fit"], t["val"], t["full"], t["ep"]["query"], t["k"], cfg)
        ncm = G.ncm_acc(*t["full"], *t["ep"]["query"], t["k"])
        base_rows.append({"task": t["lt"].name, "arch": str(t["arch"]), "sgd": sgd["query"], "sgd_chosen": sgd["chosen"],
                          "sgd_seconds": r4(sgd["seconds_sweep"] + sgd["seconds_refit"]), "ncm": r4(ncm)})
        log(f"[sgd] {t['lt'].name:<36s} sgd {sgd['query']:.3f}  ncm {ncm:.3f}  ({time.perf_counter() - t1:.1f}s)")
    sec_baselines = time.perf_counter() - t0
    sgd_mean = sum(b["sgd"] for b in base_rows) / len(base_rows)

    def final(w) -> dict:
        ev = evaluate(w, lts, candidates=kc, seed=0, selection=sel, folds=folds, compare=True)
        return summarise(ev, base_rows, sel)

    # zero-shot (the shipped writer, the same protocol and seeds as every method's final)
    t0 = time.perf_counter()
    zero = final(base)
    sec_zero = time.perf_counter() - t0
    by_sel = " ".join(f"{s} {zero['test_best_of_k_' + s]}" for s in SELECTIONS)
    log(f"[zero-shot] best-of-K {by_sel}  K=1 "
        f"{zero['test_k1']}  mean {zero['test_mean_candidate']}  oracle {zero['test_oracle']}  ({sec_zero:.0f}s)")
    zero_plain = None
    if getattr(base, "augment", "none") != "none":  # what the writer's support augmentation contributes
        zero_plain = final(G.without_augment(base))
        log(f"[zero-shot, support augmentation off] best-of-K {zero_plain['test_best_of_k']}  K=1 "
            f"{zero_plain['test_k1']}  ratio vs sgd {zero_plain['ratio_vs_sgd']}")
    t0 = time.perf_counter()
    margins = selection_margins(base, lts, kc, folds, args.selection_seeds)
    sec_margins = time.perf_counter() - t0
    log(f"[selection, {margins['pairs']} task x seed pairs] best-of-K minus mean of K: "
        + "  ".join(f"{s} {margins['minus_mean_' + s]['mean']:+.4f} ± {margins['minus_mean_' + s]['se']}"
                    for s in SELECTIONS)
        + f"  (oracle {margins['oracle_minus_mean']['mean']:+.4f})  ({sec_margins:.0f}s)")

    methods = {}
    writers = {}
    for m in names:
        name, kw = method_options(m, kc, args.loop_refine_steps)
        w = copy.deepcopy(base)
        t0 = time.perf_counter()
        # the loop's tasks are the held-out tasks (fit and val only), so the held-out evaluation's reward (on those
        # labelled examples, fixed seeds every round) is the tracked reward: no separate tracking pass
        w, hist = improve(w, lts, rounds=rounds, method=name, candidates=kc, lr=args.lr, heldout=lts, seed=0,
                          selection=sel, folds=folds, compare_selections=args.compare_rounds, track=False,
                          tasks_per_round=args.tasks_per_round, **kw)
        sec = time.perf_counter() - t0
        fin = final(w)
        curve = [{"round": r["round"], "test_best_of_k": r4(r.get("heldout_best_of_k")),
                  **{f"test_best_of_k_{s}": r4(r.get(f"heldout_best_of_k_{s}")) for s in SELECTIONS},
                  "test_k1": r4(r.get("heldout_k1")), "test_mean_candidate": r4(r.get("heldout_mean")),
                  "test_oracle": r4(r.get("heldout_oracle")),
                  "tracked_reward": r4(r.get("heldout_reward")), "reward_mean": r4(r.get("reward_mean")),
                  "reward_best": r4(r.get("reward_best")), "reward_worst": r4(r.get("reward_worst")),
                  "diversity": r4(r.get("diversity")), "winners": r.get("winners"), "seconds": r4(r["seconds"])}
                 for r in hist.rounds]
        methods[m] = {"curve": curve, "seconds": r4(sec), "final": fin}
        writers[m] = w
        log(f"[{m}] test best-of-K per round {[c['test_best_of_k'] for c in curve]}  tracked reward "
            f"{[c['tracked_reward'] for c in curve]}  final {fin['test_best_of_k']:.4f} (sgd {sgd_mean:.4f})  {sec:.0f}s")
    # winner: by the last round's tracked reward (never by test)
    winner = max(methods, key=lambda m: methods[m]["curve"][-1]["tracked_reward"])

    # refinement of the winner's final networks
    ref_rows = []
    t0 = time.perf_counter()
    for i, t in enumerate(tasks):
        ch = choose(writers[winner], t["lt"], candidates=kc, selection=sel, folds=folds, seed=i)
        net = G.net_from(t["arch"], ch.params, ch.index)
        row = {"task": t["lt"].name}
        for meth in REFINE_METHODS:
            t1 = time.perf_counter()
            res = refine(net, t["lt"].labelled(), method=meth, steps=rsteps, population=32, lr=1e-3, seed=0,
                         verify_on=t["ep"]["query"], num_classes=t["k"])
            row["before"] = r4(res.before.accuracy)
            row[meth] = r4(res.after.accuracy)
            row[f"{meth}_seconds"] = r4(time.perf_counter() - t1)
        ref_rows.append(row)
        log(f"[refine] {t['lt'].name:<36s} before {row['before']} " + " ".join(f"{m} {row[m]}" for m in REFINE_METHODS))
    sec_refine = time.perf_counter() - t0
    n = len(ref_rows)
    refinement = {"steps": rsteps, "population": 32, "lr": 1e-3, "sigma": 0.02, "tasks": ref_rows,
                  "before_mean": r4(sum(r["before"] for r in ref_rows) / n),
                  **{f"{m}_mean": r4(sum(r[m] for r in ref_rows) / n) for m in REFINE_METHODS}}
    for m in REFINE_METHODS:
        refinement[f"{m}_ratio_vs_sgd_baseline"] = r4(refinement[f"{m}_mean"] / sgd_mean)

    best = methods[winner]["final"]
    result = {
        "bench": "loop",
        "config": {"writer": wdesc, "candidates": kc, "rounds": rounds, "lr": args.lr, "quick": args.quick,
                   "methods": args.methods, "tasks_per_round": args.tasks_per_round or len(tasks),
                   "compare_rounds": args.compare_rounds, "refine_steps": rsteps,
                   "loop_refine_steps": args.loop_refine_steps if "expert_refined" in names else None,
                   "selection_seeds": args.selection_seeds,
                   "selection": sel, "folds": folds, "tasks": len(tasks), "threads": args.threads,
                   "torch": torch.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
                   "sgd": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
                   "protocol": __doc__.split("\n\n", 1)[1].split("Usage::")[0].strip()},
        "goals": GOALS,
        "baselines": {"tasks": base_rows, "sgd_mean": r4(sgd_mean),
                      "ncm_mean": r4(sum(b["ncm"] for b in base_rows) / len(base_rows))},
        "zero_shot": zero,
        "zero_shot_no_augment": zero_plain,
        "selection_margins": margins,
        "methods": methods,
        "winner": winner,
        "refinement": refinement,
        "headline": {
            "sgd_same_examples": r4(sgd_mean),
            "selection": sel,
            "zero_shot_best_of_k": zero["test_best_of_k"], "zero_shot_k1": zero["test_k1"],
            "zero_shot_mean_candidate": zero["test_mean_candidate"], "zero_shot_oracle": zero["test_oracle"],
            "zero_shot_best_of_k_minus_k1": {s: zero[f"best_of_k_minus_k1_{s}"] for s in SELECTIONS},
            "zero_shot_best_of_k_minus_mean": {s: zero[f"best_of_k_minus_mean_{s}"] for s in SELECTIONS},
            "selection_margins_over_seeds": {key: v for key, v in margins.items() if isinstance(v, dict)},
            "curve_test_best_of_k": {m: [c["test_best_of_k"] for c in v["curve"]] for m, v in methods.items()},
            "final_by_method": {m: v["final"]["test_best_of_k"] for m, v in methods.items()},
            "winner": winner, "winner_final": best["test_best_of_k"], "winner_ratio_vs_sgd": best["ratio_vs_sgd"],
            "winner_ratio_vs_sgd_per_task_mean": best["ratio_vs_sgd_per_task_mean"],
            "zero_shot_ratio_vs_sgd": zero["ratio_vs_sgd"],
            "zero_shot_ratio_vs_sgd_no_augment": zero_plain["ratio_vs_sgd"] if zero_plain else None,
            "goal_loop_vs_sgd": GOALS["loop_vs_sgd"], "goal_met": (best["ratio_vs_sgd"] or 0) >= GOALS["loop_vs_sgd"],
            "best_of_k_minus_k1": best[f"best_of_k_minus_k1_{sel}"],
            "best_of_k_minus_k1_by_selection": {s: best[f"best_of_k_minus_k1_{s}"] for s in SELECTIONS},
            "best_of_k_minus_mean_by_selection": {s: best[f"best_of_k_minus_mean_{s}"] for s in SELECTIONS},
            **{f"after_{m}_refinement": refinement[f"{m}_mean"] for m in REFINE_METHODS},
        },
        "seconds": {"baselines": r4(sec_baselines), "zero_shot": r4(sec_zero), "selection_margins": r4(sec_margins),
                    **{f"loop_{m}": v["seconds"] for m, v in methods.items()}, "refinement": r4(sec_refine)},
        "seconds_total": r4(time.perf_counter() - t_all),
    }
    text = json.dumps(json_safe(result), indent=1, allow_nan=False)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text))  # a failed write never leaves half a results file
    print(json.dumps(json_safe(result["headline"]), indent=1, allow_nan=False))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
