"""Benchmark of ``metanet.generate`` against gradient training (issue 7, points 5 and 6).

One run, side by side, everything in one JSON (printed, and written to ``--out``):

* **seen** tasks (mnist, fashion-mnist, digits, mnist1d; the data sets the writer was meta-trained on): test
  accuracy of the generated network (best of K by the task's validation split, and K=1) with the default
  architecture (``Arch.default_for``: MLP in-64-K relu) against the median of 3 Adam runs of the same architecture
  trained on the task's full train split (lr 1e-3, batch 128, at most max(30 epochs, 6000 steps), early-stopped
  on val accuracy with a patience of max(3 epochs, 600 steps), best-val state kept). ``generate`` uses its
  defaults (support: up to 1000 examples per class of the train split). Speed: wall time of ``generate`` (write
  + verify all K candidates on val + verify the winner on test) against the SGD training time (evaluation excluded from the clock) at which each run first reaches the
  generated network's val accuracy (val evaluated every few steps). Not a copy: top-1 agreement on the test
  split between the generated network and its most agreeing SGD run, against the agreement of two SGD runs; and
  between the generated network and its nearest (most agreeing) zoo network of the same task (final checkpoints
  of clean runs, any architecture fitting the task, in every ``--zoo``), against the same figure for each SGD run
  (a copy of a zoo member would agree with the zoo more than an independent SGD network does).
* **held-out** tasks, excluded from the writer's training by construction: built only from images of the data
  sets' *test* splits (the writer trains on ``train`` episodes and validates on ``val`` episodes), as random class
  subsets in random label order, pixel permutations, inversions and unseen combinations (mnist digits mixed with
  fashion-mnist garments in one task). Each is given only as labelled examples: 50 per class support (digits'
  test split holds 36 per class, so 18 support / 18 query), scored on up to 100 per class disjoint query examples.
  Protocol, identical for every method: the support is split per class 4:1 into *fit* (40) and *val* (10);
  choices are made on val; the final network is then fitted on the whole support (50).
    - generated K: K candidates written from fit, the best by val accuracy (then loss) chosen, then the same
      candidate (same seed, same noise) re-written from the whole support. (``gen_k_fit_only``: the chosen
      candidate written from fit only, no re-write.)
    - generated K=1: one network written from the whole support.
    - Adam: sweep lr {1e-3, 3e-3, 1e-2} x epochs {50, 100, 200} (batch 128) trained on fit, chosen on val,
      re-trained on the whole support with the chosen recipe (median over 3 seeds; 1 with ``--quick``).
    - NCM: nearest class mean (Euclidean, raw inputs) of the whole support.
    - augmentation: where the writer shift-augments the support (``Writer(augment="shift")``: image-like inputs,
      at most ``augment_below`` examples per class; :mod:`metanet.writer.augment`), the same protocol with the
      augmentation switched off, and Adam with the chosen recipe (one seed) on the support augmented the same
      way: what the fixed shift prior is worth to each method. A reference; the goal's baseline stays Adam on the
      examples as given.
* **held-out architectures**: a subset of the held-out image tasks written as architectures the writer did not
  train on (``mlp:784-256-256-256-K:relu``, ``cnn:1-16-32-K:relu:k3:s2``) against Adam with the same protocol.
* **refinement** (with ``--refine-writer``, a writer trained with steps=2): every seen and held-out task (and
  held-out architecture) is also written by it with the same seeds, support, K and selection protocol; reported
  side by side with the main writer (test accuracy at K and K=1, write time), with the accuracy after each of its
  passes (``write(..., all_steps=True)``, same protocol per pass), and the winner on the held-out tasks.

Usage::

    python bench/generate.py                 # full run (~20-40 min on 2 cores)
    python bench/generate.py --quick         # CI size (< 2 min)
    python bench/generate.py --writer PATH --candidates 8 --out bench/results/generate.json
    python bench/generate.py --writer PATH --refine-writer PATH2 --zoo zoos/mnist-mlp --zoo zoos/multitask-mlp

All torch work runs on one thread (``--threads``), CPU, so generation and SGD timings are comparable.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet import tasks  # noqa: E402
from metanet.errors import MetanetError  # noqa: E402
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.nets import Arch, build  # noqa: E402
from metanet.verify import verify_stacked  # noqa: E402
from metanet.writer import Writer, generate  # noqa: E402
from metanet.writer.augment import augment_support  # noqa: E402
from metanet.writer.episodes import make_episode  # noqa: E402

GOALS = {
    "seen_ratio": 0.97,  # generated test accuracy >= 0.97 x median SGD test accuracy
    "heldout_ratio": 1.0,  # generated >= 1.0 x SGD on the same examples
    "heldout_above_ncm": "every task",  # generated > NCM on every held-out task
    "arch_ratio": 0.9,  # held-out architectures: generated >= 0.9 x SGD
    "speed_ratio": 100.0,  # SGD seconds-to-equal-accuracy / generate seconds
}


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def r4(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else round(float(v), 4)


# --------------------------------------------------------------------------------------------- helpers
@torch.no_grad()
def predict(model, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + 4096]).argmax(-1) for i in range(0, len(x), 4096)])


def acc(model, x, y) -> float:
    return (predict(model, x) == y).float().mean().item()


def net_from(arch: Arch, params: dict, i: int):
    net = build(arch, seed=None)
    net.load_state_dict({k: v[i].detach().clone() for k, v in params.items()})
    return net.eval()


def stacked_scores(arch: Arch, params: dict, x, y, k: int) -> list[tuple[float, float]]:
    """(accuracy, loss) of every stacked candidate on (x, y)."""
    task = SimpleNamespace(name="examples", num_classes=k)
    reports = verify_stacked(build(arch, seed=None), params, task, data=(x, y))
    return [(r.accuracy, r.loss) for r in reports]


def best_index(scores: list[tuple[float, float]]) -> int:
    return max(range(len(scores)), key=lambda i: (scores[i][0], -scores[i][1] if math.isfinite(scores[i][1]) else -math.inf))


def train_adam(arch, x, y, *, lr, epochs, seed, batch=128, val=None, patience=None, targets=(), eval_every=5,
               snapshots=()):
    """Adam on (x, y). Returns a dict with the final/best model and timings (training time only, evaluation
    excluded from the clock).

    ``val=(xv, yv)``: with ``patience`` (epochs), early stopping on val accuracy, best state kept; with ``targets``,
    the training time at which val accuracy first reaches each target (checked every ``eval_every`` steps).
    ``snapshots``: epochs at which to record val accuracy (for a sweep; needs ``val``).
    """
    model = build(arch, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(y)
    clock, step = 0.0, 0
    reach = {t: None for t in targets}
    best = (-1.0, None, 0, 0.0)
    snaps, since_best = {}, 0
    for ep in range(1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if val is not None and step % eval_every == 0 and any(v is None for v in reach.values()):
                clock += time.perf_counter() - t0
                a = acc(model, *val)
                for t in reach:
                    if reach[t] is None and a >= t:
                        reach[t] = (clock, step, ep)
                model.train()
                t0 = time.perf_counter()
        clock += time.perf_counter() - t0
        if val is not None and (patience is not None or ep in snapshots):
            a = acc(model, *val)
            for t in reach:  # also check at every epoch end
                if reach[t] is None and a >= t:
                    reach[t] = (clock, step, ep)
            if ep in snapshots:
                snaps[ep] = a
            if patience is not None:
                if a > best[0]:
                    best = (a, {k: v.clone() for k, v in model.state_dict().items()}, ep, clock)
                    since_best = 0
                else:
                    since_best += 1
                    if since_best >= patience:
                        break
    if best[1] is not None:
        model.load_state_dict(best[1])
    return {
        "model": model.eval(), "seconds": clock, "steps": step, "epochs_run": ep, "best_epoch": best[2] or ep,
        "best_val": best[0] if best[1] is not None else None, "seconds_to_best": best[3] if best[1] is not None else clock,
        "reach": reach, "snapshots": snaps,
    }


def agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a == b).float().mean().item()


def ncm_acc(sx, sy, qx, qy, k) -> float:
    sx, qx = sx.flatten(1), qx.flatten(1)
    means = torch.stack([sx[sy == c].mean(0) for c in range(k)])
    return (torch.cdist(qx, means).argmin(1) == qy).float().mean().item()


def split_fit_val(sx, sy, k):
    """Per class: the first 4/5 of the (already shuffled) support examples to fit, the rest to val."""
    fit, val = [], []
    for c in range(k):
        idx = torch.nonzero(sy == c).flatten()
        n_val = max(1, len(idx) // 5)
        fit.append(idx[: len(idx) - n_val])
        val.append(idx[len(idx) - n_val :])
    fit, val = torch.cat(fit), torch.cat(val)
    return (sx[fit], sy[fit]), (sx[val], sy[val])


def load_writer(path: str | None) -> tuple[Writer, str]:
    from metanet.checkpoints import shipped

    if path:
        return Writer.load(path), str(path)
    if shipped("writer").is_file():
        return Writer.load(), f"shipped ({shipped('writer')})"
    return Writer(), "untrained Writer() (no shipped checkpoint found)"


# ------------------------------------------------------------------------------------------ seen tasks
def bench_seen(writer, names, k, cfg, zoos=(), refine=None) -> tuple[dict, list[dict]]:
    """Seen tasks; with ``refine`` (a second writer), also its rows for the ``refinement`` section."""
    rows, refine_rows = [], []
    for name in names:
        task = tasks.get(name)
        xtr, ytr = task.split("train")
        xv, yv = task.split("val")
        xte, yte = task.split("test")
        arch = Arch.default_for(task.input_shape, task.num_classes)
        log(f"[seen] {name} {arch}")
        gens = {}
        for kk in (k, 1):
            t0 = time.perf_counter()
            g = generate(task, arch=arch, candidates=kk, seed=0, writer=writer)
            sec = time.perf_counter() - t0
            gens[kk] = (g, sec)
        gk, sec_k = gens[k]
        g1, sec_1 = gens[1]
        val_k = gk.report.candidates[gk.report.chosen]["val_accuracy"]
        val_1 = g1.report.candidates[0]["val_accuracy"]
        runs = []
        spe = math.ceil(len(ytr) / 128)  # steps per epoch
        max_epochs = max(cfg["max_epochs"], math.ceil(cfg["step_budget"] / spe))
        patience = max(3, math.ceil(cfg["patience_steps"] / spe))
        for seed in range(cfg["sgd_seeds"]):
            r = train_adam(arch, xtr, ytr, lr=1e-3, epochs=max_epochs, seed=seed, batch=128, val=(xv, yv),
                           patience=patience, targets=(val_k, val_1), eval_every=cfg["eval_every"])
            r["test"] = acc(r["model"], xte, yte)
            runs.append(r)
            log(f"   sgd seed {seed}: test {r['test']:.4f} best val {r['best_val']:.4f} epoch {r['best_epoch']} "
                f"{r['seconds']:.1f}s  reach gen_k val {val_k:.4f}: {r['reach'][val_k]}")
        med = statistics.median(r["test"] for r in runs)

        def to_equal(target, gen_sec):
            times = [r["reach"][target][0] if r["reach"][target] is not None else math.inf for r in runs]
            m = statistics.median(times)
            out = {"sgd_seconds_to_equal": [r4(t) for t in times], "sgd_seconds_to_equal_median": r4(m),
                   "generate_seconds": r4(gen_sec), "reached": sum(math.isfinite(t) for t in times)}
            if math.isfinite(m):
                out["ratio"] = r4(m / gen_sec)
            else:  # SGD never reached it within its training: the ratio is at least total SGD time / generate time
                # per run: a run that never reached it took longer than its whole training, one that did took its
                # reach time; the median of these bounds the median (the median of every run's total time did not:
                # a run that reached the target early counted with its longer total)
                out["ratio"] = None
                bounds = [t if math.isfinite(t) else r["seconds"] for t, r in zip(times, runs)]
                out["ratio_lower_bound"] = r4(statistics.median(bounds) / gen_sec)
            return out

        pg = predict(gk.model, xte)
        ps = [predict(r["model"], xte) for r in runs]
        gen_vs = [agreement(pg, p) for p in ps]
        pairs = [agreement(ps[i], ps[j]) for i in range(len(ps)) for j in range(i + 1, len(ps))]
        row = {
            "task": task.name, "arch": str(arch), "train": len(ytr), "val": len(yv), "test": len(yte),
            "generated": {
                f"k{k}": {"test": r4(gk.report.test.accuracy), "val": r4(val_k), "chosen": gk.report.chosen,
                          "candidates_val": [r4(c["val_accuracy"]) for c in gk.report.candidates],
                          "seconds": r4(sec_k), "seconds_write": r4(gk.report.seconds_write),
                          "support": gk.report.support},
                "k1": {"test": r4(g1.report.test.accuracy), "val": r4(val_1), "seconds": r4(sec_1),
                       "seconds_write": r4(g1.report.seconds_write)},
            },
            "sgd": {
                "recipe": f"Adam lr 1e-3, batch 128, <= {max_epochs} epochs, early stop on val accuracy "
                          f"(patience {patience} epochs), best-val state kept",
                "runs": [{"seed": s, "test": r4(r["test"]), "best_val": r4(r["best_val"]), "best_epoch": r["best_epoch"],
                          "epochs_run": r["epochs_run"], "seconds": r4(r["seconds"]),
                          "seconds_to_best": r4(r["seconds_to_best"])} for s, r in enumerate(runs)],
                "median_test": r4(med),
            },
            "ratio": {f"k{k}": r4(gk.report.test.accuracy / med), "k1": r4(g1.report.test.accuracy / med),
                      "goal": GOALS["seen_ratio"]},
            "speed": {f"k{k}": to_equal(val_k, sec_k), "k1": to_equal(val_1, sec_1), "goal": GOALS["speed_ratio"]},
            "agreement": {
                "gen_vs_nearest_sgd": r4(max(gen_vs)), "gen_vs_each_sgd": [r4(a) for a in gen_vs],
                "sgd_vs_sgd": [r4(a) for a in pairs], "sgd_vs_sgd_mean": r4(sum(pairs) / len(pairs)) if pairs else None,
                "note": "top-1 agreement on the test split; a copy would agree more with its source than SGD runs "
                        "agree with each other",
            },
        }
        row["agreement"].update(zoo_agreement(task, arch, pg, ps, xte, yte, list(zoos)))
        zoo_ag = row["agreement"]["zoo"]
        if zoo_ag.get("gen_vs_nearest_zoo") is not None:
            log(f"   zoo agreement ({zoo_ag['networks']} networks): gen/nearest zoo {zoo_ag['gen_vs_nearest_zoo']}  "
                f"sgd/nearest zoo {zoo_ag['sgd_vs_nearest_zoo_mean']}  sgd/sgd {row['agreement']['sgd_vs_sgd_mean']}")
        else:
            log(f"   zoo agreement: {zoo_ag.get('note')}")
        if refine is not None:
            refine_rows.append(refine_seen(refine, task, arch, k, row, med, (xv, yv), (xte, yte)))
        log(f"   gen k{k} {gk.report.test.accuracy:.4f} ({sec_k:.2f}s)  k1 {g1.report.test.accuracy:.4f}  sgd median "
            f"{med:.4f}  ratio {row['ratio'][f'k{k}']}  agreement gen/sgd {row['agreement']['gen_vs_nearest_sgd']} "
            f"sgd/sgd {row['agreement']['sgd_vs_sgd_mean']}  speed {row['speed'][f'k{k}']}")
        rows.append(row)
    ratios_k = [r["ratio"][f"k{k}"] for r in rows]
    # a task whose SGD never reached the generated accuracy has only a lower bound, so the median is one too when
    # any is ("is None", not "or": an exact ratio that rounds to 0.0 fell through to an absent bound)
    speeds = [s["ratio"] if s.get("ratio") is not None else s.get("ratio_lower_bound")
              for s in (r["speed"][f"k{k}"] for r in rows)]
    bounds = sum(r["speed"][f"k{k}"].get("ratio") is None for r in rows)
    with_zoo = [r["agreement"]["zoo"] for r in rows if r["agreement"]["zoo"].get("gen_vs_nearest_zoo") is not None]
    return {
        "tasks": rows,
        "summary": {
            f"ratio_k{k}_mean": r4(sum(ratios_k) / len(ratios_k)),
            f"ratio_k{k}_min": r4(min(ratios_k)),
            "ratio_k1_mean": r4(sum(r["ratio"]["k1"] for r in rows) / len(rows)),
            "tasks_meeting_goal": sum(x >= GOALS["seen_ratio"] for x in ratios_k),
            "n": len(rows),
            "goal_ratio": GOALS["seen_ratio"],
            f"speed_ratio_k{k}_median": r4(statistics.median(speeds)),
            f"speed_ratio_k{k}_min": r4(min(speeds)),
            # tasks whose ratio is a lower bound (SGD never reached the generated accuracy): with any, the median
            # and the min are lower bounds
            f"speed_ratio_k{k}_lower_bounds": bounds,
            "speed_tasks_meeting_goal": sum(s >= GOALS["speed_ratio"] for s in speeds),
            "goal_speed": GOALS["speed_ratio"],
            "agreement_gen_vs_nearest_sgd_mean": r4(sum(r["agreement"]["gen_vs_nearest_sgd"] for r in rows) / len(rows)),
            "agreement_sgd_vs_sgd_mean": r4(
                sum(r["agreement"]["sgd_vs_sgd_mean"] for r in rows if r["agreement"]["sgd_vs_sgd_mean"] is not None)
                / max(1, sum(r["agreement"]["sgd_vs_sgd_mean"] is not None for r in rows))),
            # not a copy: over the tasks that have zoo networks
            "agreement_zoo_tasks": len(with_zoo),
            "agreement_zoo_gen_mean": r4(sum(z["gen_vs_nearest_zoo"] for z in with_zoo) / len(with_zoo)) if with_zoo else None,
            "agreement_zoo_sgd_mean": r4(sum(z["sgd_vs_nearest_zoo_mean"] for z in with_zoo) / len(with_zoo)) if with_zoo else None,
        },
    }, refine_rows


#: the repository's zoos/ folder, where the README builds zoos and train/*.yaml reads them
DEFAULT_ZOOS = tuple(str(ROOT / "zoos" / name) for name in ("mnist-mlp", "multitask-mlp"))


def open_zoos(paths: list[str] | None) -> list:
    """The zoos to compare generated networks with: ``paths`` (each must be a zoo), or by default whichever of
    :data:`DEFAULT_ZOOS` exist. ``["none"]``: no zoo.

    Raises:
        ZooError: a given path is not a zoo.
    """
    from metanet.zoo import Zoo

    if paths == ["none"]:
        return []
    if not paths:
        paths = [p for p in DEFAULT_ZOOS if (Path(p) / "index.sqlite").is_file()]
    return [Zoo(p) for p in paths]


@torch.no_grad()
def stacked_predict(module, params: dict, x: torch.Tensor, chunk: int = 128) -> torch.Tensor:
    """Top-1 predictions ``(B, n)`` of the ``B`` stacked networks ``params`` on ``x`` (vmap, ``chunk`` at a time)."""
    from torch.func import functional_call, vmap

    fwd = vmap(lambda p, xb: functional_call(module, p, (xb,)), in_dims=(0, None))
    b = next(iter(params.values())).shape[0]
    out = []
    for j in range(0, b, chunk):
        p = {k: v[j : j + chunk] for k, v in params.items()}
        out.append(torch.cat([fwd(p, x[i : i + 2048]).argmax(-1) for i in range(0, len(x), 2048)], 1))
    return torch.cat(out)


def zoo_agreement(task, arch, pred_gen: torch.Tensor, preds_sgd: list[torch.Tensor], xte, yte, zoos: list) -> dict:
    """Not a copy (issue 7, point 6): top-1 agreement on the test split of the generated network with its nearest
    (most agreeing) zoo network of the same task, next to the same figure for each independent SGD run.

    Zoo networks: the final checkpoints of clean runs (no backdoor, not diverged) of ``task`` in every zoo of
    ``zoos``, of any architecture that fits the task's input shape and classes (agreement is about predictions).
    A copy of a zoo member would agree with it more than an SGD network agrees with its own nearest zoo member.
    """
    crit = (f"final checkpoints of clean, non-diverged runs of task {task.name!r}, any architecture fitting input "
            f"{tuple(task.input_shape)} and {task.num_classes} classes")
    out: dict = {"criteria": crit, "zoos": [], "networks": 0}
    if not zoos:
        out["note"] = "no zoo given"
        return {"zoo": out}
    preds, meta = [], []  # per zoo network: (n_test,) predictions, (zoo, NetInfo)
    for zoo in zoos:
        entry = {"path": str(zoo.path), "networks": 0}
        try:
            infos = [n for n in zoo.select(task=task.name, final=True, backdoor=False, diverged=False)
                     if n.arch.fits(tuple(task.input_shape)) and n.arch.num_classes == task.num_classes]
            entry["networks"] = len(infos)
            by_arch: dict[str, list] = {}
            for n in infos:
                by_arch.setdefault(str(n.arch), []).append(n)
            for group in by_arch.values():
                module, params = zoo.stacked([n.id for n in group])
                preds.append(stacked_predict(module, params, xte))
                meta += [(zoo, n) for n in group]
        except MetanetError as e:  # a damaged zoo: reported, the bench goes on
            entry["error"] = f"{type(e).__name__}: {e}"
            log(f"   zoo {zoo.path}: {entry['error']}")
        out["zoos"].append(entry)
    if not meta:
        out["note"] = f"no network of task {task.name!r} in the zoos"
        return {"zoo": out}
    z = torch.cat(preds)  # (N, n_test), rows in the order of meta

    def nearest(p: torch.Tensor, rows: list[int]) -> tuple[float, int]:
        ag = (z[rows] == p).float().mean(1)
        i = int(ag.argmax())
        return ag[i].item(), rows[i]

    every = list(range(len(meta)))
    a_gen, i_gen = nearest(pred_gen, every)
    sgd = [nearest(p, every)[0] for p in preds_sgd]
    zoo_n, info = meta[i_gen]
    out.update({
        "networks": len(meta),
        "gen_vs_nearest_zoo": r4(a_gen),
        "sgd_vs_nearest_zoo": [r4(a) for a in sgd],
        "sgd_vs_nearest_zoo_mean": r4(sum(sgd) / len(sgd)) if sgd else None,
        "nearest": {"zoo": str(zoo_n.path), "id": info.id, "arch": str(info.arch), "run": info.run,
                    "test_acc_stored": r4(info.test_acc), "test_acc_here": r4((z[i_gen] == yte).float().mean())},
        "zoo_test_acc_here": {"max": r4((z == yte).float().mean(1).max()),
                              # statistics.median, as the other medians here: Tensor.median is the lower of the
                              # two middle values of an even count (0.8333 for 48 networks whose median is 0.85)
                              "median": r4(statistics.median((z == yte).float().mean(1).tolist()))},
    })
    same = [i for i, (_, n) in enumerate(meta) if str(n.arch) == str(arch)]
    if same:
        a_same = nearest(pred_gen, same)[0]
        s_same = [nearest(p, same)[0] for p in preds_sgd]
        out["same_arch"] = {"arch": str(arch), "networks": len(same), "gen_vs_nearest_zoo": r4(a_same),
                            "sgd_vs_nearest_zoo_mean": r4(sum(s_same) / len(s_same)) if s_same else None}
    else:
        out["same_arch"] = {"arch": str(arch), "networks": 0}
    return {"zoo": out}


# -------------------------------------------------------------------------------------- held-out tasks
def heldout_specs(quick: bool) -> list[dict]:
    """Held-out task definitions: base test split, number of classes, transforms (classes drawn per task)."""
    if quick:
        return [
            dict(base="digits", k=3), dict(base="digits", k=5, permute=True),
            dict(base="mnist1d", k=4), dict(base="mnist", k=3, invert=True),
        ]
    return [
        dict(base="fashion-mnist", k=2), dict(base="fashion-mnist", k=3), dict(base="fashion-mnist", k=5),
        dict(base="fashion-mnist", k=10), dict(base="fashion-mnist", k=5, permute=True),
        dict(base="fashion-mnist", k=4, invert=True), dict(base="fashion-mnist", k=10, permute=True, invert=True),
        dict(base="mnist", k=2), dict(base="mnist", k=5), dict(base="mnist", k=10),
        dict(base="mnist", k=3, permute=True), dict(base="mnist", k=6, invert=True),
        dict(base="mnist", k=10, permute=True),
        dict(base="mnist1d", k=3), dict(base="mnist1d", k=5), dict(base="mnist1d", k=10),
        dict(base="mnist1d", k=4, permute=True),
        dict(base="digits", k=3), dict(base="digits", k=10), dict(base="digits", k=5, permute=True),
        dict(base="digits", k=4, invert=True),
        dict(base="mix", k=4), dict(base="mix", k=6, permute=True), dict(base="mix", k=10, invert=True),
    ]


_TEST = {}


def test_split(base: str):
    """Images of a data set's test split (for ``mix``: mnist test digits 0-9 and fashion-mnist test as 10-19)."""
    if base not in _TEST:
        if base == "mix":
            xm, ym, _ = test_split("mnist")
            xf, yf, _ = test_split("fashion-mnist")
            _TEST[base] = (torch.cat([xm, xf]), torch.cat([ym, yf + 10]), 20)
        else:
            t = tasks.get(base)
            x, y = t.split("test")
            _TEST[base] = (x, y, t.num_classes)
    return _TEST[base]


def make_heldout(i: int, spec: dict, shots: int, query: int) -> dict:
    g = torch.Generator().manual_seed(7_000 + i)
    x, y, nc = test_split(spec["base"])
    k = spec["k"]
    if spec["base"] == "mix":  # half digits, half garments, in random label order
        digits = torch.randperm(10, generator=g)[: k // 2]
        garments = torch.randperm(10, generator=g)[: k - k // 2] + 10
        classes = torch.cat([digits, garments])[torch.randperm(k, generator=g)].tolist()
    else:
        classes = torch.randperm(nc, generator=g)[:k].tolist()
    (sx, sy), (qx, qy), name = make_episode(x, y, classes, shots, query, g, spec.get("permute", False),
                                            spec.get("invert", False), name=f"{spec['base']}/test")
    return {"name": name, "k": k, "support": (sx, sy), "query": (qx, qy), "input_shape": tuple(x.shape[1:])}


def sgd_same_examples(arch, fit, val, full, query, k, cfg) -> dict:
    """Adam sweep (lr x epochs) on fit, chosen on val, re-trained on the whole support; scored on query."""
    t_sweep = 0.0
    sweep = []
    max_ep = max(cfg["sweep_epochs"])
    for lr in cfg["sweep_lrs"]:
        r = train_adam(arch, *fit, lr=lr, epochs=max_ep, seed=100, batch=128, val=val, snapshots=cfg["sweep_epochs"])
        t_sweep += r["seconds"]
        for ep, a in r["snapshots"].items():
            sweep.append({"lr": lr, "epochs": ep, "val": a})
    best = max(sweep, key=lambda s: (s["val"], -s["epochs"], -s["lr"]))
    finals = []
    t_final = 0.0
    for seed in range(cfg["sgd_seeds"]):
        r = train_adam(arch, *full, lr=best["lr"], epochs=best["epochs"], seed=seed, batch=128)
        t_final += r["seconds"]
        finals.append(acc(r["model"], *query))
    return {"query": r4(statistics.median(finals)), "runs": [r4(a) for a in finals], "chosen": {"lr": best["lr"], "epochs": best["epochs"]},
            "sweep": [{**s, "val": r4(s["val"])} for s in sweep], "seconds_sweep": r4(t_sweep),
            "seconds_refit": r4(t_final / len(finals))}


def gen_same_examples(writer, arch, fit, val, full, query, k, kc) -> dict:
    """The writer with the protocol of the module docstring (K candidates chosen on val, then re-written)."""
    t0 = time.perf_counter()
    with torch.no_grad():
        p_fit = writer.write(arch, *fit, k, candidates=kc, seed=0)
        scores = stacked_scores(arch, p_fit, *val, k)
        i = best_index(scores)
        p_full = writer.write(arch, *full, k, candidates=kc, seed=0)
    sec_k = time.perf_counter() - t0
    t0 = time.perf_counter()
    with torch.no_grad():
        p_one = writer.write(arch, *full, k, candidates=1, seed=0)
    sec_1 = time.perf_counter() - t0
    q_full = stacked_scores(arch, p_full, *query, k)
    q_fit = stacked_scores(arch, p_fit, *query, k)
    q_one = stacked_scores(arch, p_one, *query, k)
    return {
        "k": q_full[i][0], "k_fit_only": q_fit[i][0], "k1": q_one[0][0], "chosen": i,
        "candidates_val": [r4(s[0]) for s in scores], "candidates_query": [r4(s[0]) for s in q_full],
        "seconds_k": sec_k, "seconds_k1": sec_1,
    }


def bench_heldout(writer, kc, cfg, quick, refine=None) -> tuple[dict, list[dict], list[dict]]:
    """Held-out tasks; also the episodes (for the architecture section) and the refinement writer's rows."""
    rows, episodes, refine_rows = [], [], []
    for i, spec in enumerate(heldout_specs(quick)):
        ep = make_heldout(i, spec, cfg["shots"], cfg["query"])
        episodes.append(ep)
        k = ep["k"]
        arch = Arch.default_for(ep["input_shape"], k)
        full = ep["support"]
        fit, val = split_fit_val(*full, k)
        gen = gen_same_examples(writer, arch, fit, val, full, ep["query"], k, kc)
        sgd = sgd_same_examples(arch, fit, val, full, ep["query"], k, cfg)
        ncm = ncm_acc(*full, *ep["query"], k)
        aug = augmentation_ablation(writer, arch, fit, val, full, ep["query"], k, kc, sgd["chosen"])
        row = {
            "task": ep["name"], "classes": k, "arch": str(arch), "support": len(full[1]), "fit": len(fit[1]),
            "val": len(val[1]), "query": len(ep["query"][1]),
            "generated": {f"k{kc}": r4(gen["k"]), f"k{kc}_fit_only": r4(gen["k_fit_only"]), "k1": r4(gen["k1"]),
                          "chosen": gen["chosen"], "candidates_val": gen["candidates_val"],
                          "candidates_query": gen["candidates_query"],
                          "seconds": r4(gen["seconds_k"]), "seconds_k1": r4(gen["seconds_k1"])},
            "sgd": sgd, "ncm": r4(ncm),
            "ratio": {f"k{kc}": r4(gen["k"] / sgd["query"]), "k1": r4(gen["k1"] / sgd["query"])},
            "above_ncm": {f"k{kc}": gen["k"] > ncm, "k1": gen["k1"] > ncm},
            "augmentation": aug,
        }
        if aug.get("augmented"):
            log(f"   augmented support: writer without augmentation k{kc} {aug[f'no_augment_k{kc}']:.3f} "
                f"k1 {aug['no_augment_k1']:.3f}; Adam {sgd['chosen']} on the augmented support {aug['sgd_augmented']:.3f}")
        log(f"[held-out {i + 1:2d}] {ep['name']:<40s} gen k{kc} {gen['k']:.3f} (fit-only {gen['k_fit_only']:.3f}) "
            f"k1 {gen['k1']:.3f}  sgd {sgd['query']:.3f} {sgd['chosen']}  ncm {ncm:.3f}  "
            f"ratio {row['ratio'][f'k{kc}']}  {gen['seconds_k']:.2f}s vs sgd sweep {sgd['seconds_sweep']}s")
        rows.append(row)
        if refine is not None:
            refine_rows.append(refine_same_examples(refine, kc, row, arch, fit, val, full, ep["query"], k))
    n = len(rows)
    summary = {
        "n": n,
        f"ratio_k{kc}_mean": r4(sum(r["ratio"][f"k{kc}"] for r in rows) / n),
        f"ratio_k{kc}_min": r4(min(r["ratio"][f"k{kc}"] for r in rows)),
        "ratio_k1_mean": r4(sum(r["ratio"]["k1"] for r in rows) / n),
        f"tasks_ratio_k{kc}_ge_goal": sum(r["ratio"][f"k{kc}"] >= GOALS["heldout_ratio"] for r in rows),
        f"above_ncm_k{kc}": sum(r["above_ncm"][f"k{kc}"] for r in rows),
        "above_ncm_k1": sum(r["above_ncm"]["k1"] for r in rows),
        "generated_mean": r4(sum(r["generated"][f"k{kc}"] for r in rows) / n),
        "sgd_mean": r4(sum(r["sgd"]["query"] for r in rows) / n),
        "ncm_mean": r4(sum(r["ncm"] for r in rows) / n),
        "ratio_k_vs_ncm_mean": r4(sum(r["generated"][f"k{kc}"] / r["ncm"] for r in rows) / n),
        "goal_ratio": GOALS["heldout_ratio"], "goal_ncm": f"above NCM on all {n} tasks",
    }
    summary["augmentation"] = augmentation_summary(rows, kc)
    return {"tasks": rows, "summary": summary}, episodes, refine_rows


def without_augment(writer):
    """The same writer (shared weights) conditioning on the support as given: ``augment="none"``."""
    plain = copy.copy(writer)
    plain.augment = "none"
    return plain


def augmentation_ablation(writer, arch, fit, val, full, query, k, kc, recipe: dict) -> dict:
    """What the writer's support augmentation (:mod:`metanet.writer.augment`) contributes on one held-out task:
    the same protocol with it switched off, and, as a reference the goal does not use, Adam with the chosen recipe
    (one seed) trained on the support augmented the same way."""
    mode = getattr(writer, "augment", "none")
    if mode == "none":
        return {"augmented": False, "mode": mode}
    xa, ya = augment_support(*full, mode, writer.augment_below)
    if len(ya) == len(full[1]):
        return {"augmented": False, "mode": mode}
    off = gen_same_examples(without_augment(writer), arch, fit, val, full, query, k, kc)
    r = train_adam(arch, xa, ya, lr=recipe["lr"], epochs=recipe["epochs"], seed=0, batch=128)
    return {"augmented": True, "mode": mode, "support_rows": len(ya), f"no_augment_k{kc}": r4(off["k"]),
            "no_augment_k1": r4(off["k1"]), "sgd_augmented": r4(acc(r["model"], *query)),
            "sgd_augmented_seconds": r4(r["seconds"])}


def augmentation_summary(rows: list[dict], kc: int) -> dict:
    """Means over all held-out tasks (tasks whose support was not augmented count with their own figures)."""
    n = len(rows)
    aug = [r for r in rows if r["augmentation"].get("augmented")]

    def mean(f) -> float:
        return r4(sum(f(r) for r in rows) / n)

    def get(r, key, fallback):
        return r["augmentation"][key] if r["augmentation"].get("augmented") else fallback

    return {  # the means with augmentation are the summary's generated_mean and sgd_mean
        "tasks_augmented": len(aug), "n": n,
        f"no_augment_k{kc}_mean": mean(lambda r: get(r, f"no_augment_k{kc}", r["generated"][f"k{kc}"])),
        "no_augment_k1_mean": mean(lambda r: get(r, "no_augment_k1", r["generated"]["k1"])),
        f"no_augment_ratio_k{kc}_mean": mean(lambda r: get(r, f"no_augment_k{kc}", r["generated"][f"k{kc}"])
                                               / r["sgd"]["query"]),
        "sgd_augmented_mean": mean(lambda r: get(r, "sgd_augmented", r["sgd"]["query"])),
        f"ratio_k{kc}_vs_sgd_augmented_mean": mean(lambda r: r["generated"][f"k{kc}"]
                                                   / get(r, "sgd_augmented", r["sgd"]["query"])),
        "note": "sgd_augmented: Adam with the recipe chosen on the plain support, one seed, trained on the support "
                "augmented exactly as the writer's; a reference, not the goal's baseline",
    }


def bench_archs(writer, kc, cfg, episodes, quick, refine=None) -> tuple[dict, list[dict]]:
    images = [ep for ep in episodes if ep["input_shape"] == (1, 28, 28) and "+permute" not in ep["name"]]
    chosen = images[: cfg["arch_tasks"]]
    rows, refine_rows = [], []
    for ep in chosen:
        k = ep["k"]
        full = ep["support"]
        fit, val = split_fit_val(*full, k)
        for arch_s in cfg["archs"]:
            arch = Arch.parse(arch_s.replace("K", str(k)))
            gen = gen_same_examples(writer, arch, fit, val, full, ep["query"], k, kc)
            sgd = sgd_same_examples(arch, fit, val, full, ep["query"], k, {**cfg, "sweep_lrs": cfg["arch_sweep_lrs"]})
            row = {"task": ep["name"], "arch": str(arch), "template": arch_s,
                   "generated": {f"k{kc}": r4(gen["k"]), f"k{kc}_fit_only": r4(gen["k_fit_only"]), "k1": r4(gen["k1"]),
                                 "candidates_query": gen["candidates_query"], "seconds": r4(gen["seconds_k"])},
                   "sgd": {k_: sgd[k_] for k_ in ("query", "runs", "chosen", "seconds_sweep", "seconds_refit")},
                   "ncm": r4(ncm_acc(*full, *ep["query"], k)),
                   "ratio": {f"k{kc}": r4(gen["k"] / sgd["query"]), "k1": r4(gen["k1"] / sgd["query"])}}
            log(f"[arch] {ep['name']:<36s} {arch}  gen k{kc} {gen['k']:.3f} k1 {gen['k1']:.3f}  sgd {sgd['query']:.3f} "
                f"{sgd['chosen']}  ratio {row['ratio'][f'k{kc}']}  ({gen['seconds_k']:.1f}s vs {sgd['seconds_sweep']}s)")
            rows.append(row)
            if refine is not None:
                refine_rows.append(refine_same_examples(refine, kc, row, arch, fit, val, full, ep["query"], k))
    by_arch = {}
    for a in cfg["archs"]:
        rs = [r for r in rows if r["template"] == a]
        if rs:
            by_arch[a] = {"n": len(rs), f"ratio_k{kc}_mean": r4(sum(r["ratio"][f"k{kc}"] for r in rs) / len(rs)),
                          f"ratio_k{kc}_min": r4(min(r["ratio"][f"k{kc}"] for r in rs)),
                          "ratio_k1_mean": r4(sum(r["ratio"]["k1"] for r in rs) / len(rs)),
                          "tasks_meeting_goal": sum(r["ratio"][f"k{kc}"] >= GOALS["arch_ratio"] for r in rs)}
    return {"tasks": rows, "summary": {"by_arch": by_arch, "goal_ratio": GOALS["arch_ratio"]}}, refine_rows


# -------------------------------------------------------------------------------- recursive refinement
def writer_steps(writer) -> int | None:
    return getattr(writer, "steps", None)


def per_pass(writer, arch, k, kc, choose_from, choose_on, score_from, score_on) -> list[dict]:
    """Accuracy after every refinement pass of ``writer`` (``write(..., all_steps=True)``, same seed as the
    protocol): at pass t, the candidate with the best ``choose_on`` accuracy among the K written from
    ``choose_from`` is taken from the K written (same seed, same noise) from ``score_from`` and scored on
    ``score_on``; K=1 is the single network written from ``score_from``."""
    with torch.no_grad():
        pc = writer.write(arch, *choose_from, k, candidates=kc, seed=0, all_steps=True)
        ps = pc if score_from is choose_from else writer.write(arch, *score_from, k, candidates=kc, seed=0,
                                                              all_steps=True)
        p1 = writer.write(arch, *score_from, k, candidates=1, seed=0, all_steps=True)
    out = []
    for t, (a, b, c) in enumerate(zip(pc, ps, p1)):
        i = best_index(stacked_scores(arch, a, *choose_on, k))
        q = stacked_scores(arch, b, *score_on, k)
        out.append({"pass": t + 1, f"k{kc}": r4(q[i][0]), "chosen": i, "k1": r4(stacked_scores(arch, c, *score_on, k)[0][0]),
                    "candidates_mean": r4(sum(s[0] for s in q) / len(q))})
    return out


def refine_seen(writer2, task, arch, kc, row, sgd_median, val, test) -> dict:
    """A seen task written by the refinement writer with ``generate`` (same defaults as the main writer)."""
    from metanet.writer.generate import support_set

    out = {}
    for kk in (kc, 1):
        t0 = time.perf_counter()
        g = generate(task, arch=arch, candidates=kk, seed=0, writer=writer2)
        out[kk] = (g.report.test.accuracy, time.perf_counter() - t0, g.report.seconds_write)
    # per pass: generate's default support (up to 1000 per class of train, seed 0), chosen on val, scored on test
    support = support_set(task, 1000, 0)
    passes = per_pass(writer2, arch, task.num_classes, kc, support, val, support, test)
    single = row["generated"]
    res = {
        "task": task.name, "arch": str(arch),
        "single": {f"k{kc}": single[f"k{kc}"]["test"], "k1": single["k1"]["test"], "seconds": single[f"k{kc}"]["seconds"],
                   "seconds_k1": single["k1"]["seconds"], "seconds_write": single[f"k{kc}"]["seconds_write"]},
        "refine": {f"k{kc}": r4(out[kc][0]), "k1": r4(out[1][0]), "seconds": r4(out[kc][1]), "seconds_k1": r4(out[1][1]),
                   "seconds_write": r4(out[kc][2]), "per_pass": passes,
                   "last_pass_matches_protocol": passes[-1][f"k{kc}"] == r4(out[kc][0])},
        "sgd_median": r4(sgd_median),
    }
    return finish_refine_row(res, kc, reference=sgd_median)


def refine_same_examples(writer2, kc, row, arch, fit, val, full, query, k) -> dict:
    """A held-out task (or architecture) written by the refinement writer with the main writer's protocol."""
    gen = gen_same_examples(writer2, arch, fit, val, full, query, k, kc)
    passes = per_pass(writer2, arch, k, kc, fit, val, full, query)
    single = row["generated"]
    res = {
        "task": row["task"], "arch": str(arch),
        "single": {f"k{kc}": single[f"k{kc}"], "k1": single["k1"], "seconds": single["seconds"],
                   "seconds_k1": single.get("seconds_k1")},
        "refine": {f"k{kc}": r4(gen["k"]), f"k{kc}_fit_only": r4(gen["k_fit_only"]), "k1": r4(gen["k1"]),
                   "chosen": gen["chosen"], "seconds": r4(gen["seconds_k"]), "seconds_k1": r4(gen["seconds_k1"]),
                   "per_pass": passes, "last_pass_matches_protocol": passes[-1][f"k{kc}"] == r4(gen["k"])},
        "sgd": row["sgd"]["query"], "ncm": row["ncm"],
    }
    if "template" in row:
        res["template"] = row["template"]
    res = finish_refine_row(res, kc, reference=row["sgd"]["query"])
    res["above_ncm"] = {"single": single[f"k{kc}"] > row["ncm"], "refine": gen["k"] > row["ncm"]}
    return res


def finish_refine_row(res: dict, kc: int, reference: float) -> dict:
    s, r = res["single"], res["refine"]
    res["gain"] = {f"k{kc}": r4(r[f"k{kc}"] - s[f"k{kc}"]), "k1": r4(r["k1"] - s["k1"])}
    res["ratio_vs_sgd"] = {"single": r4(s[f"k{kc}"] / reference), "refine": r4(r[f"k{kc}"] / reference)}
    log(f"   [refine] {res['task']:<36s} {res['arch']}  single k{kc} {s[f'k{kc}']:.4f} k1 {s['k1']:.4f}  "
        f"refine k{kc} {r[f'k{kc}']:.4f} k1 {r['k1']:.4f}  per pass {[p[f'k{kc}'] for p in r['per_pass']]}  "
        f"{s['seconds']:.2f}s vs {r['seconds']:.2f}s")
    return res


def refine_summary(rows: list[dict], kc: int) -> dict:
    """Means over ``rows`` of single pass vs refinement: accuracy, gain, wins, per-pass accuracy, seconds."""
    if not rows:
        return {"n": 0}
    n = len(rows)
    mean = lambda f: r4(sum(f(r) for r in rows) / n)  # noqa: E731
    gains = [r["gain"][f"k{kc}"] for r in rows]
    n_pass = min(len(r["refine"]["per_pass"]) for r in rows)
    out = {
        "n": n,
        f"single_k{kc}_mean": mean(lambda r: r["single"][f"k{kc}"]),
        f"refine_k{kc}_mean": mean(lambda r: r["refine"][f"k{kc}"]),
        f"gain_k{kc}_mean": mean(lambda r: r["gain"][f"k{kc}"]),
        f"gain_k{kc}_min": r4(min(gains)), f"gain_k{kc}_max": r4(max(gains)),
        "single_k1_mean": mean(lambda r: r["single"]["k1"]),
        "refine_k1_mean": mean(lambda r: r["refine"]["k1"]),
        "gain_k1_mean": mean(lambda r: r["gain"]["k1"]),
        f"refine_wins_k{kc}": sum(g > 0 for g in gains), f"ties_k{kc}": sum(g == 0 for g in gains),
        f"single_wins_k{kc}": sum(g < 0 for g in gains),
        f"per_pass_k{kc}_mean": [mean(lambda r, t=t: r["refine"]["per_pass"][t][f"k{kc}"]) for t in range(n_pass)],
        "per_pass_k1_mean": [mean(lambda r, t=t: r["refine"]["per_pass"][t]["k1"]) for t in range(n_pass)],
        "ratio_vs_sgd_single_mean": mean(lambda r: r["ratio_vs_sgd"]["single"]),
        "ratio_vs_sgd_refine_mean": mean(lambda r: r["ratio_vs_sgd"]["refine"]),
        "seconds_single_mean": mean(lambda r: r["single"]["seconds"]),
        "seconds_refine_mean": mean(lambda r: r["refine"]["seconds"]),
        "last_pass_matches_protocol": all(r["refine"]["last_pass_matches_protocol"] for r in rows),
    }
    if all("above_ncm" in r for r in rows):
        out["above_ncm_single"] = sum(r["above_ncm"]["single"] for r in rows)
        out["above_ncm_refine"] = sum(r["above_ncm"]["refine"] for r in rows)
    return out


def refinement_section(writer, writer2, wdesc2, kc, seen_rows, heldout_rows, arch_rows) -> dict:
    summary = {"seen": refine_summary(seen_rows, kc), "heldout": refine_summary(heldout_rows, kc),
               "archs": refine_summary(arch_rows, kc)}
    # the decision rests on the held-out tasks (the writer's purpose), else on what was run
    basis = next((b for b in ("heldout", "seen", "archs") if summary[b]["n"]), None)
    if basis is not None:
        g = summary[basis][f"gain_k{kc}_mean"]
        winner = "refine" if g > 0 else "single"  # a tie keeps the single pass: as good, and faster
        summary["winner"] = winner
        verdict = ("recursive refinement wins" if g > 0 else "single pass wins" if g < 0 else
                   "no difference, the single pass is kept (faster)")
        summary["decision"] = (f"{verdict} on the {basis} tasks: mean test accuracy gain of refinement {g:+.4f} "
                               f"(K={kc}), refinement better on {summary[basis][f'refine_wins_k{kc}']}/"
                               f"{summary[basis]['n']} tasks, worse on {summary[basis][f'single_wins_k{kc}']}")
        summary["basis"] = basis
    return {
        "single_writer_steps": writer_steps(writer), "refine_writer": wdesc2, "refine_writer_steps": writer_steps(writer2),
        "protocol": "the refinement writer writes every seen and held-out task (and held-out architecture) with the "
                    "same seeds, support, K and selection protocol as the main writer; per_pass: the same protocol "
                    "applied to the weights after each pass (write(..., all_steps=True)); gain = refine - single",
        "seen": seen_rows, "heldout": heldout_rows, "archs": arch_rows, "summary": summary,
    }


# ---------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI-size run: few tasks, small sweeps (< 2 min)")
    ap.add_argument("--writer", default=None, help="writer checkpoint (default: the shipped one if present, else "
                                                   "an untrained Writer())")
    ap.add_argument("--candidates", type=int, default=8, help="K: weight sets written and verified at once (default 8)")
    ap.add_argument("--out", default=None, help="JSON output (default bench/results/generate.json, "
                                                "generate.quick.json with --quick)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: seen,heldout,archs (default: none)")
    ap.add_argument("--seen", default=None, help="comma-separated seen tasks (default: mnist,fashion-mnist,digits,"
                                                 "mnist1d; digits,mnist1d with --quick)")
    ap.add_argument("--zoo", action="append", default=None, metavar="DIR",
                    help="zoo to measure agreement with (repeatable; default: whichever of "
                         f"{', '.join(DEFAULT_ZOOS)} exist; 'none': no zoo)")
    ap.add_argument("--refine-writer", default=None, metavar="PATH",
                    help="a second writer checkpoint (trained with steps=2): also write every task with it and "
                         "report recursive refinement vs single pass side by side (the 'refinement' section; default: "
                         "none)")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    if skip - {"seen", "heldout", "archs"}:
        ap.error(f"--skip: unknown section(s) {sorted(skip - {'seen', 'heldout', 'archs'})}; valid: seen,heldout,archs")
    if args.candidates < 1:
        ap.error(f"--candidates must be >= 1, got {args.candidates}")
    for path in (args.writer, args.refine_writer):
        if path is not None and not Path(path).is_file():
            ap.error(f"writer checkpoint {path} does not exist")
    if args.out and Path(args.out).is_dir():  # found now, not when the first section's results are written
        ap.error(f"--out {args.out} is a directory; give a file path")
    try:
        zoos = open_zoos(args.zoo)
        writer, wdesc = load_writer(args.writer)
        refine, rdesc = (load_writer(args.refine_writer) if args.refine_writer else (None, None))
    except MetanetError as e:
        ap.error(str(e))
    seen = [t.strip() for t in args.seen.split(",") if t.strip()] if args.seen else None
    if seen:
        try:
            seen = [tasks.get(t).name for t in seen]
        except MetanetError as e:
            ap.error(f"--seen: {e}")
    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / ("generate.quick.json" if args.quick else "generate.json")
    cfg = {
        "seen": seen or (["digits", "mnist1d"] if args.quick else ["mnist", "fashion-mnist", "digits", "mnist1d"]),
        "sgd_seeds": 1 if args.quick else 3,
        "seen_sgd_seeds": 2 if args.quick else 3,
        # seen-task SGD: at least max_epochs and at least step_budget steps; patience >= 3 epochs and >= patience_steps
        "max_epochs": 8 if args.quick else 30,
        "step_budget": 1000 if args.quick else 6000,
        "patience_steps": 200 if args.quick else 600,
        "eval_every": 5,
        "shots": 50, "query": 100,
        "sweep_lrs": (1e-3, 3e-3, 1e-2),
        "sweep_epochs": (50, 100, 200),
        "arch_tasks": 1 if args.quick else 6,
        "archs": ("mlp:784-256-256-256-K:relu", "cnn:1-16-32-K:relu:k3:s2"),
        "arch_sweep_lrs": (3e-3, 1e-2) if args.quick else (1e-3, 3e-3, 1e-2),
    }
    writer.eval()
    t_all = time.perf_counter()
    log(f"writer: {wdesc} (steps={writer_steps(writer)}); K={args.candidates}; quick={args.quick}; "
        f"threads={args.threads}; zoos: {[str(z.path) for z in zoos] or 'none'}")
    if refine is not None:
        refine.eval()
        log(f"refinement writer: {rdesc} (steps={writer_steps(refine)})")
        if (writer_steps(refine) or 0) < 2:
            log(f"warning: the refinement writer has steps={writer_steps(refine)}: there is nothing to refine")
    # warm-up (imports, lazy inits) so the first timed call is not penalised
    with torch.no_grad():
        for w in (writer, refine):
            if w is not None:
                w.write("mlp:64-8-2:relu", torch.rand(8, 1, 8, 8), torch.tensor([0, 1] * 4), 2, candidates=2)

    result = {
        "bench": "generate",
        "config": {
            "writer": wdesc, "writer_steps": writer_steps(writer), "refine_writer": rdesc,
            "refine_writer_steps": writer_steps(refine) if refine is not None else None,
            "zoos": [str(z.path) for z in zoos], "candidates": args.candidates, "quick": args.quick, "threads": args.threads,
            "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), **{k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
            "protocol": __doc__.split("\n\n", 1)[1].split("Usage::")[0].strip(),
            "note": "timings on a shared 2-core machine (other jobs running); generation and SGD timed in the same "
                    "process on the same thread budget",
        },
        "goals": GOALS,
    }
    # partial results survive a crash in a later section, beside --out: a crash must not replace the results file
    # (e.g. the committed full-size figures) by a partial one that run_all's table would read as a finished run
    partial = out.with_suffix(".partial.json")

    def checkpoint() -> None:
        text = json.dumps(json_safe({**result, "partial": True}), indent=2, allow_nan=False) + "\n"
        atomic_write(partial, lambda tmp: Path(tmp).write_text(text))

    ref_seen, ref_heldout, ref_archs = [], [], []

    def refinement() -> None:
        if refine is not None:
            result["refinement"] = refinement_section(writer, refine, rdesc, args.candidates, ref_seen, ref_heldout,
                                                      ref_archs)

    if "seen" not in skip:
        result["seen"], ref_seen = bench_seen(writer, cfg["seen"], args.candidates,
                                              {**cfg, "sgd_seeds": cfg["seen_sgd_seeds"]}, zoos, refine)
        refinement()
        checkpoint()
    episodes = []
    if "heldout" not in skip or "archs" not in skip:
        result["heldout"], episodes, ref_heldout = bench_heldout(writer, args.candidates, cfg, args.quick, refine)
        refinement()
        checkpoint()
    if "archs" not in skip:
        result["archs"], ref_archs = bench_archs(writer, args.candidates, cfg, episodes, args.quick, refine)
        refinement()
    result["seconds_total"] = r4(time.perf_counter() - t_all)
    result["headline"] = headline(result, args.candidates)
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text + "\n"))  # never a half-written results file
    partial.unlink(missing_ok=True)
    print(text)
    log("\n".join(f"{k}: {v}" for k, v in result["headline"].items()))
    log(f"written {out}")
    return 0


def headline(res: dict, kc: int) -> dict:
    """The figures next to their goals."""
    h = {}
    if "seen" in res:
        s = res["seen"]["summary"]
        h["seen: generated/SGD-median test accuracy (mean, min)"] = (
            f"{s[f'ratio_k{kc}_mean']}, {s[f'ratio_k{kc}_min']} (K=1 mean {s['ratio_k1_mean']}); goal >= {GOALS['seen_ratio']}; "
            f"{s['tasks_meeting_goal']}/{s['n']} tasks meet it")
        h["speed: SGD seconds-to-equal / generate seconds (median, min)"] = (
            f"{s[f'speed_ratio_k{kc}_median']}, {s[f'speed_ratio_k{kc}_min']}; goal >= {GOALS['speed_ratio']}; "
            f"{s['speed_tasks_meeting_goal']}/{s['n']} tasks meet it")
        h["not a copy: agreement gen vs nearest SGD / SGD vs SGD (mean)"] = (
            f"{s['agreement_gen_vs_nearest_sgd_mean']} / {s['agreement_sgd_vs_sgd_mean']}")
        h["not a copy: agreement with the nearest zoo network, gen / SGD (mean)"] = (
            f"{s['agreement_zoo_gen_mean']} / {s['agreement_zoo_sgd_mean']} over {s['agreement_zoo_tasks']}/{s['n']} "
            "tasks with zoo networks" if s["agreement_zoo_tasks"] else "no zoo network of the seen tasks")
    if "heldout" in res:
        s = res["heldout"]["summary"]
        h["held-out: generated/SGD-same-examples (mean, min)"] = (
            f"{s[f'ratio_k{kc}_mean']}, {s[f'ratio_k{kc}_min']} (K=1 mean {s['ratio_k1_mean']}); goal >= {GOALS['heldout_ratio']}; "
            f"{s[f'tasks_ratio_k{kc}_ge_goal']}/{s['n']} tasks meet it")
        h["held-out: tasks above NCM"] = f"{s[f'above_ncm_k{kc}']}/{s['n']} (K=1 {s['above_ncm_k1']}); goal {s['n']}/{s['n']}"
        a = s["augmentation"]
        if a["tasks_augmented"]:
            h["held-out: support augmentation, generated with / without; Adam / Adam on the augmented support (mean)"] = (
                f"{s['generated_mean']} / {a[f'no_augment_k{kc}_mean']}; {s['sgd_mean']} / "
                f"{a['sgd_augmented_mean']} ({a['tasks_augmented']}/{a['n']} tasks augmented)")
    if "archs" in res:
        for a, s in res["archs"]["summary"]["by_arch"].items():
            h[f"held-out arch {a}: generated/SGD (mean, min)"] = (
                f"{s[f'ratio_k{kc}_mean']}, {s[f'ratio_k{kc}_min']} (K=1 mean {s['ratio_k1_mean']}); goal >= "
                f"{GOALS['arch_ratio']}; {s['tasks_meeting_goal']}/{s['n']} tasks meet it")
    if "refinement" in res:
        rs = res["refinement"]["summary"]
        for part in ("seen", "heldout", "archs"):
            s = rs[part]
            if s["n"]:
                h[f"refinement ({part}): steps=2 vs single pass, K={kc} (K=1)"] = (
                    f"{s[f'refine_k{kc}_mean']} vs {s[f'single_k{kc}_mean']}, gain {s[f'gain_k{kc}_mean']:+.4f} "
                    f"({s['gain_k1_mean']:+.4f}); per pass {s[f'per_pass_k{kc}_mean']}; refine wins "
                    f"{s[f'refine_wins_k{kc}']}/{s['n']}; {s['seconds_refine_mean']}s vs {s['seconds_single_mean']}s")
        if "decision" in rs:
            h["refinement: keep"] = rs["decision"]
    return h


if __name__ == "__main__":
    sys.exit(main())
