"""Benchmark of the verification loop (issue 8, point 5): does the loop lift held-out accuracy, which update
method wins, and what gradient-free refinement adds. One run, one JSON (printed, and written to ``--out``).

Held-out tasks: exactly those of ``bench/generate.py`` (images of the data sets' *test* splits, random class
subsets / orders, permutations, inversions, mnist+fashion mixes), each given only as 50 labelled examples per class
(digits: 18), scored on up to 100 per class disjoint query examples (the *test* here). Protocol, as in
``bench/generate.py``: the 50 are split per class 4:1 into *fit* (conditions the writer) and *val* (the loop's
reward, and every choice). Test labels are never used by any method.

* **loop curve**, per update method (``expert``, ``awr``, ``pg``, and ``distil_all``: expert iteration with every
  candidate kept — the same distillation with the reward ignored, the control that shows whether selection by
  reward matters): starting from the shipped writer, ``--rounds`` rounds over all held-out tasks (the loop uses the
  tasks' fit and val only); per round: test accuracy of the best-of-K candidate (chosen on val) and of K=1, the
  tracked val reward (K fixed starting points), the round's reward mean/best/worst, diversity, seconds.
* **final**: each method's writer with ``bench/generate.py``'s protocol (K written from fit, best on val, the same
  candidate re-written from all 50), against Adam on the same examples (lr x epochs sweep on fit, chosen on val,
  re-trained on all 50; median over seeds) and NCM. The winning method is chosen on val reward, never on test.
* **refinement**: the winning writer's final network per task, refined on its 50 examples by weight perturbation
  (``metanet.refine(method="perturbation")``) and by backprop fine-tuning (``method="sgd"``), same steps and lr.

Usage::

    python bench/loop.py --quick     # small (a few minutes)
    python bench/loop.py             # full (~1 h on 2 shared cores)
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet.loop import LoopTask, improve, refine  # noqa: E402
from metanet.nets import Arch  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
G = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(G)

GOALS = {"loop_vs_sgd": 1.05, "best_of_k_vs_k1": "measurable margin (> 0)"}
r4, log = G.r4, G.log


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
        lt = LoopTask(ep["name"], arch, k, fit, val, ep["query"],
                      {"support": {"support": torch.arange(len(fit[1]))},
                       "val": {"support": torch.arange(len(fit[1]), len(full[1]))}, "test": {"query": torch.arange(len(ep["query"][1]))}})
        out.append({"ep": ep, "lt": lt, "full": full, "fit": fit, "val": val, "k": k, "arch": arch})
    return out


def final_protocol(writer, t: dict, kc: int) -> tuple[dict, torch.nn.Module]:
    gen = G.gen_same_examples(writer, t["arch"], t["fit"], t["val"], t["full"], t["ep"]["query"], t["k"], kc)
    with torch.no_grad():
        p = writer.write(t["arch"], *t["full"], t["k"], candidates=kc, seed=0)
    return gen, G.net_from(t["arch"], p, gen["chosen"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tasks", type=int, default=None, help="use the first N held-out tasks")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--methods", default="expert,awr,pg,distil_all")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--refine-steps", type=int, default=None)
    ap.add_argument("--writer", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    rounds = args.rounds or (4 if args.quick else 10)
    rsteps = args.refine_steps or (100 if args.quick else 300)
    kc = args.candidates
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / ("loop.quick.json" if args.quick else "loop.json")
    cfg = {"sgd_seeds": 1 if args.quick else 3, "sweep_lrs": (1e-3, 3e-3, 1e-2),
           "sweep_epochs": (50, 100) if args.quick else (50, 100, 200)}
    base, wdesc = G.load_writer(args.writer)
    t_all = time.perf_counter()
    tasks = heldout_tasks(args.quick, args.tasks)
    lts = [t["lt"] for t in tasks]
    for lt in lts:
        lt.check_disjoint()
    log(f"writer {wdesc}; {len(tasks)} held-out tasks; K={kc}; rounds={rounds}")

    # baselines on the same 50 examples
    base_rows = []
    for t in tasks:
        t0 = time.perf_counter()
        sgd = G.sgd_same_examples(t["arch"], t["fit"], t["val"], t["full"], t["ep"]["query"], t["k"], cfg)
        ncm = G.ncm_acc(*t["full"], *t["ep"]["query"], t["k"])
        base_rows.append({"task": t["lt"].name, "arch": str(t["arch"]), "sgd": sgd["query"], "sgd_chosen": sgd["chosen"],
                          "sgd_seconds": r4(sgd["seconds_sweep"] + sgd["seconds_refit"]), "ncm": r4(ncm)})
        log(f"[sgd] {t['lt'].name:<36s} sgd {sgd['query']:.3f}  ncm {ncm:.3f}  ({time.perf_counter() - t0:.1f}s)")
    sgd_mean = sum(b["sgd"] for b in base_rows) / len(base_rows)

    methods = {}
    writers = {}
    for m in args.methods.split(","):
        name, kw = m, {}
        if m == "distil_all":
            name, kw = "expert", {"keep": kc}
        w = copy.deepcopy(base)
        t0 = time.perf_counter()
        w, hist = improve(w, lts, rounds=rounds, method=name, candidates=kc, lr=args.lr, heldout=lts, seed=0, **kw)
        sec = time.perf_counter() - t0
        finals = [final_protocol(w, t, kc)[0] for t in tasks]
        fin = sum(f["k"] for f in finals) / len(finals)
        fin1 = sum(f["k1"] for f in finals) / len(finals)
        curve = [{"round": r["round"], "test_best_of_k": r4(r.get("heldout_best_of_k")), "test_k1": r4(r.get("heldout_k1")),
                  "val_tracked_reward": r4(r.get("tracked_reward")), "reward_mean": r4(r.get("reward_mean")),
                  "reward_best": r4(r.get("reward_best")), "reward_worst": r4(r.get("reward_worst")),
                  "diversity": r4(r.get("diversity")), "winners": r.get("winners"), "seconds": r4(r["seconds"])}
                 for r in hist.rounds]
        ratios = [f["k"] / b["sgd"] for f, b in zip(finals, base_rows)]
        methods[m] = {"curve": curve, "seconds": r4(sec),
                      "final": {"test_best_of_k": r4(fin), "test_k1": r4(fin1), "ratio_vs_sgd": r4(fin / sgd_mean),
                                "ratio_vs_sgd_per_task_mean": r4(sum(ratios) / len(ratios)),
                                "per_task": [r4(f["k"]) for f in finals]}}
        writers[m] = w
        log(f"[{m}] test best-of-K per round {[c['test_best_of_k'] for c in curve]}  val reward "
            f"{[c['val_tracked_reward'] for c in curve]}  final {fin:.4f} (sgd {sgd_mean:.4f})  {sec:.0f}s")
    # zero-shot (the shipped writer, same protocol)
    zs = [final_protocol(base, t, kc)[0] for t in tasks]
    zero = {"test_best_of_k": r4(sum(f["k"] for f in zs) / len(zs)), "test_k1": r4(sum(f["k1"] for f in zs) / len(zs)),
            "per_task": [r4(f["k"]) for f in zs]}
    zero["ratio_vs_sgd"] = r4(zero["test_best_of_k"] / sgd_mean)
    zero["ratio_vs_sgd_per_task_mean"] = r4(sum(f["k"] / b["sgd"] for f, b in zip(zs, base_rows)) / len(zs))
    # winner: by the last round's tracked val reward (never by test)
    winner = max(methods, key=lambda m: methods[m]["curve"][-1]["val_tracked_reward"])

    # refinement of the winner's final networks
    ref_rows = []
    for t in tasks:
        _, net = final_protocol(writers[winner], t, kc)
        row = {"task": t["lt"].name}
        for meth in ("perturbation", "sgd"):
            t0 = time.perf_counter()
            res = refine(net, t["full"], method=meth, steps=rsteps, population=32, lr=1e-3, seed=0,
                         verify_on=t["ep"]["query"], num_classes=t["k"])
            row["before"] = r4(res.before.accuracy)
            row[meth] = r4(res.after.accuracy)
            row[f"{meth}_seconds"] = r4(time.perf_counter() - t0)
        ref_rows.append(row)
        log(f"[refine] {t['lt'].name:<36s} before {row['before']} perturbation {row['perturbation']} sgd {row['sgd']}")
    n = len(ref_rows)
    refinement = {"steps": rsteps, "population": 32, "lr": 1e-3, "sigma": 0.02, "tasks": ref_rows,
                  "before_mean": r4(sum(r["before"] for r in ref_rows) / n),
                  "perturbation_mean": r4(sum(r["perturbation"] for r in ref_rows) / n),
                  "sgd_mean": r4(sum(r["sgd"] for r in ref_rows) / n)}
    refinement["perturbation_ratio_vs_sgd_baseline"] = r4(refinement["perturbation_mean"] / sgd_mean)

    best = methods[winner]["final"]
    result = {
        "bench": "loop",
        "config": {"writer": wdesc, "candidates": kc, "rounds": rounds, "lr": args.lr, "quick": args.quick,
                   "tasks": len(tasks), "threads": args.threads, "torch": torch.__version__,
                   "python": platform.python_version(), "cpu_count": os.cpu_count(),
                   "sgd": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
                   "protocol": __doc__.split("\n\n", 1)[1].split("Usage::")[0].strip()},
        "goals": GOALS,
        "baselines": {"tasks": base_rows, "sgd_mean": r4(sgd_mean),
                      "ncm_mean": r4(sum(b["ncm"] for b in base_rows) / len(base_rows))},
        "zero_shot": zero,
        "methods": methods,
        "winner": winner,
        "refinement": refinement,
        "headline": {
            "sgd_same_examples": r4(sgd_mean),
            "zero_shot_best_of_k": zero["test_best_of_k"], "zero_shot_k1": zero["test_k1"],
            "curve_test_best_of_k": {m: [c["test_best_of_k"] for c in v["curve"]] for m, v in methods.items()},
            "final_by_method": {m: v["final"]["test_best_of_k"] for m, v in methods.items()},
            "winner": winner, "winner_final": best["test_best_of_k"], "winner_ratio_vs_sgd": best["ratio_vs_sgd"],
            "winner_ratio_vs_sgd_per_task_mean": best["ratio_vs_sgd_per_task_mean"],
            "zero_shot_ratio_vs_sgd": zero["ratio_vs_sgd"],
            "goal_loop_vs_sgd": GOALS["loop_vs_sgd"], "goal_met": (best["ratio_vs_sgd"] or 0) >= GOALS["loop_vs_sgd"],
            "best_of_k_minus_k1": r4(best["test_best_of_k"] - best["test_k1"]),
            "after_perturbation_refinement": refinement["perturbation_mean"],
            "after_sgd_refinement": refinement["sgd_mean"],
        },
        "seconds_total": r4(time.perf_counter() - t_all),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result["headline"], indent=1))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
