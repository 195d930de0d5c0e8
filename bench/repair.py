"""Bench for issue 9: backdoor repair (point 4) and pruning (point 5).

Backdoor repair: every backdoored network of the ``backdoor-mlp`` zoo (final checkpoints) is repaired with
``metanet.edit.repair_backdoor`` with its known trigger (from the zoo's ``backdoor`` column), and the first
``--blind-limit`` of them also blind (trigger reconstructed; the known trigger is used only to measure the
attack success rate). Goal per network:
attack success rate <= 10% with clean test accuracy down by <= 1 point. Clean networks of the same zoo go through
the same procedure as a control (each with the trigger of a backdoored network of its task): their accuracy must
not drop by more than 1 point. Without a zoo, the networks are trained here (and the JSON says so).

Pruning: test accuracy against the fraction of connections kept, for magnitude pruning (per layer and global)
and necessity pruning, on zoo networks and on networks written by ``metanet.generate`` (trained here when the
writer is not available).

    python bench/repair.py [--quick] [--workers 2] [--out bench/results/repair.json]   # --quick: repair.quick.json
    python bench/repair.py --modes blind --limit 12 --no-pruning --out bench/results/repair.blind.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet import edit, tasks  # noqa: E402
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.nets import build  # noqa: E402

KEPT = [1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02]
METHODS = [("magnitude", "layer"), ("magnitude", "global"), ("necessity", "global")]


def log(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- sources
def _train(arch: str, task, trigger: dict | None, seed: int, epochs: int = 3, examples: int | None = None):
    from metanet.zoo.backdoor import apply_trigger, poison_indices

    x, y = task.split("train")
    if examples:
        x, y = x[:examples], y[:examples]
    if trigger:
        idx = poison_indices(len(x), trigger["poison_rate"], torch.Generator().manual_seed(seed))
        x[idx] = apply_trigger(x[idx], trigger)
        y[idx] = trigger["target"]
    model = build(arch, seed=seed)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    g = torch.Generator().manual_seed(seed + 7919)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 64):
            b = perm[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    return model.eval()


def _sample_trigger(rng: torch.Generator, shape, classes: int, placement: str) -> dict:
    """A trigger as the zoo's recipe samples them (metanet.zoo.recipe)."""
    size = int(torch.randint(3, 6, (1,), generator=rng))
    kind = ["square", "checker", "random"][int(torch.randint(3, (1,), generator=rng))]
    h, w = shape[1], shape[2]
    if placement == "corner":
        loc = [h - size - 1, w - size - 1]
    else:
        loc = [int(torch.randint(h - size + 1, (1,), generator=rng)), int(torch.randint(w - size + 1, (1,), generator=rng))]
    pattern = ([[1] * size for _ in range(size)] if kind == "square" else
               [[(r + c) % 2 for c in range(size)] for r in range(size)] if kind == "checker" else
               torch.randint(2, (size, size), generator=rng).tolist())
    return {"kind": kind, "size": size, "location": loc, "placement": placement, "pattern": pattern,
            "target": int(torch.randint(classes, (1,), generator=rng)), "poison_rate": 0.08}


def backdoor_nets(zoo_path: Path, limit: int | None, skip: int = 0, runs: int | None = None
                  ) -> tuple[list[dict], list[dict], str]:
    """(backdoored, clean) as dicts with id, task, arch, trigger, model; and where they came from. ``runs``: only
    networks of the zoo's first ``runs`` training runs."""
    if (zoo_path / "index.sqlite").is_file():
        from metanet.zoo import Zoo

        zoo = Zoo(zoo_path)
        bad = zoo.select(backdoor=True, final=True, diverged=False)
        good = zoo.select(backdoor=False, final=True, diverged=False)
        if runs is not None:
            bad, good = [n for n in bad if n.run < runs], [n for n in good if n.run < runs]
        if bad and good:
            bad, good = bad[skip:limit], good[skip:limit]
            by_task: dict[str, list[dict]] = {}
            for n in bad:
                by_task.setdefault(n.task, []).append(n.backdoor)
            mk = lambda n, trig: {"id": n.id, "task": n.task, "arch": str(n.arch), "trigger": trig,  # noqa: E731
                                  "zoo_asr": (n.backdoor or {}).get("asr"), "zoo_test_acc": n.test_acc,
                                  "model": zoo.load(n.id)}
            controls = []
            for i, n in enumerate(good, skip):  # the same trigger per control whatever the slice
                pool = by_task.get(n.task) or [t for ts in by_task.values() for t in ts]
                controls.append(mk(n, pool[i % len(pool)]))
            first = "" if runs is None else f", its first {runs} runs"
            return [mk(n, n.backdoor) for n in bad], controls, f"zoo {zoo_path} ({len(zoo)} networks{first})"
    log(f"no backdoor zoo at {zoo_path}: training networks in the bench")
    task = tasks.get("fashion-mnist")
    rng = torch.Generator().manual_seed(0)
    n = limit or 8
    bad, good = [], []
    for i in range(n):
        trig = _sample_trigger(rng, task.input_shape, task.num_classes, "corner" if i % 2 == 0 else "random")
        bad.append({"id": f"bench-{i}", "task": task.name, "arch": "mlp:784-64-10:relu", "trigger": trig,
                    "model": _train("mlp:784-64-10:relu", task, trig, seed=i)})
        good.append({"id": f"bench-clean-{i}", "task": task.name, "arch": "mlp:784-64-10:relu", "trigger": trig,
                     "model": _train("mlp:784-64-10:relu", task, None, seed=100 + i)})
    return bad, good, "trained in the bench (fashion-mnist, mlp:784-64-10:relu, 3 epochs)"


# ---------------------------------------------------------------------------------------------- backdoor
def repair_one(net: dict, blind: bool) -> dict:
    t0 = time.perf_counter()
    model = net["model"]
    if isinstance(model, dict):  # a state dict sent to a worker process
        model = build(net["arch"], seed=0)
        model.load_state_dict(net["model"])
        model.eval()
    _, rep = edit.repair_backdoor(model, net["task"], net["trigger"], blind=blind)
    drop = rep.before.accuracy - rep.after.accuracy
    return {
        "id": net["id"], "task": net["task"], "arch": net["arch"], "mode": "blind" if blind else "known",
        "placement": net["trigger"].get("placement"), "kind": net["trigger"].get("kind"),
        "size": net["trigger"].get("size"), "poison_rate": net["trigger"].get("poison_rate"),
        "zoo_asr": net.get("zoo_asr"), "asr_before": rep.asr_before, "asr_after": rep.asr_after,
        "acc_before": rep.before.accuracy, "acc_after": rep.after.accuracy, "drop_points": 100 * drop,
        "success": rep.asr_after <= 0.10 and drop <= 0.01 + 1e-9,
        "backdoor_found": rep.details.get("backdoor_found"), "strategy": rep.details.get("strategy"),
        "neurons_edited": len(rep.details.get("neurons", [])), "rounds": len(rep.details.get("rounds", [])),
        "seconds": time.perf_counter() - t0,
    }


def _summary(rows: list[dict]) -> dict:
    if not rows:
        return {"n": 0}
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    mean = lambda k: statistics.fmean(r[k] for r in rows)  # noqa: E731
    return {
        "n": len(rows),
        "success_rate": mean("success"),
        "asr_before_mean": mean("asr_before"), "asr_before_median": med("asr_before"),
        "asr_after_mean": mean("asr_after"), "asr_after_median": med("asr_after"),
        "frac_asr_after_le_10pct": statistics.fmean(r["asr_after"] <= 0.10 for r in rows),
        "drop_points_mean": mean("drop_points"), "drop_points_max": max(r["drop_points"] for r in rows),
        "frac_drop_le_1pt": statistics.fmean(r["drop_points"] <= 1.0 + 1e-7 for r in rows),
        "seconds_mean": mean("seconds"),
    }


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _job(job: tuple[str, dict, bool]) -> tuple[str, dict]:
    kind, net, blind = job
    return kind, repair_one(net, blind)


def backdoor_bench(zoo_path: Path, limit: int | None, blind_limit: int | None, workers: int,
                   modes: tuple[str, ...] = ("known", "blind"), skip: int = 0, runs: int | None = None) -> dict:
    bad, good, source = backdoor_nets(zoo_path, limit, skip, runs)
    log(f"backdoor: {len(bad)} backdoored + {len(good)} clean networks from {source}, {workers} worker(s)")
    out: dict[str, Any] = {"source": source, "networks": [], "controls": []}
    jobs = [(kind, {**net, "model": net["model"].state_dict()}, b)
            for kind, nets in (("networks", bad), ("controls", good)) for i, net in enumerate(nets)
            for b in ([False] if "known" in modes else []) + (
                [True] if "blind" in modes and (blind_limit is None or i < blind_limit) else [])]
    if workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                   initargs=(torch.get_num_threads(),))
        results = pool.map(_job, jobs)
    else:
        pool, results = None, map(_job, jobs)
    for i, (kind, r) in enumerate(results):
        out[kind].append(r)
        log(f"  [{i + 1}/{len(jobs)}] {kind[:7]} {r['id']} {r['mode']:5} {str(r['placement']):6} asr "
            f"{r['asr_before']:.3f} -> {r['asr_after']:.3f}  acc {r['acc_before']:.4f} -> {r['acc_after']:.4f}  "
            f"{r['seconds']:.1f}s")
    if pool is not None:
        pool.shutdown()
    summ: dict[str, Any] = {}
    for m in ("known", "blind"):
        rows = [r for r in out["networks"] if r["mode"] == m]
        if not rows:
            continue
        ctrl = [r for r in out["controls"] if r["mode"] == m]
        summ[m] = {
            "all": _summary(rows),
            "corner": _summary([r for r in rows if r["placement"] == "corner"]),
            "random_place": _summary([r for r in rows if r["placement"] == "random"]),
            "effective_backdoors": _summary([r for r in rows if r["asr_before"] >= 0.5]),
            "controls": {"n": len(ctrl), "drop_points_mean": statistics.fmean(r["drop_points"] for r in ctrl) if ctrl else None,
                         "drop_points_max": max((r["drop_points"] for r in ctrl), default=None),
                         "frac_drop_le_1pt": statistics.fmean(r["drop_points"] <= 1.0 + 1e-7 for r in ctrl) if ctrl else None,
                         "edited": sum(r["neurons_edited"] > 0 for r in ctrl)},
        }
    out["summary"] = summ
    return out


# ---------------------------------------------------------------------------------------------- pruning
def pruning_nets(zoo_path: Path, n_zoo: int, n_gen: int) -> list[dict]:
    nets = []
    if (zoo_path / "index.sqlite").is_file():
        from metanet.zoo import Zoo

        zoo = Zoo(zoo_path)
        seen: set[str] = set()
        for info in zoo.select(final=True, diverged=False, min_acc=0.5):
            if str(info.arch) in seen:
                continue
            seen.add(str(info.arch))
            nets.append({"source": "zoo", "id": info.id, "task": info.task, "arch": str(info.arch),
                         "model": zoo.load(info.id)})
            if len(nets) >= n_zoo:
                break
    else:
        log(f"no zoo at {zoo_path} for the pruning bench")
    gen_tasks = ["mnist", "fashion-mnist", "digits"][:n_gen]
    for i, name in enumerate(gen_tasks):
        task = tasks.get(name)
        arch = build(f"mlp:{math.prod(task.input_shape)}-64-{task.num_classes}:relu").arch
        try:
            import metanet

            g = metanet.generate(name, arch=arch, candidates=8, seed=i)
            nets.append({"source": "generated", "id": f"generate-{name}", "task": name, "arch": str(arch),
                         "model": g.model})
        except Exception as e:  # the writer is another subsystem: fall back, and say so
            log(f"metanet.generate failed for {name} ({type(e).__name__}: {e}); training instead")
            nets.append({"source": "trained-in-bench", "id": f"trained-{name}", "task": name, "arch": str(arch),
                         "model": _train(str(arch), task, None, seed=i, epochs=3)})
    return nets


def pruning_bench(zoo_path: Path, n_zoo: int, n_gen: int, kept: list[float]) -> dict:
    nets = pruning_nets(zoo_path, n_zoo, n_gen)
    log(f"pruning: {len(nets)} networks, kept fractions {kept}")
    rows = []
    for net in nets:
        curve: dict[str, list] = {}
        for method, scope in METHODS:
            key = f"{method}-{scope}" if method == "magnitude" else method
            accs = []
            for k in kept:
                t0 = time.perf_counter()
                _, rep = edit.prune(net["model"], round(1 - k, 6), net["task"], method=method, scope=scope)
                accs.append(rep.after.accuracy)
                log(f"  {net['id']} {net['arch']} {key:18} kept {k:4.2f}: {rep.after.accuracy:.4f} "
                    f"({time.perf_counter() - t0:.1f}s)")
            curve[key] = accs
        rows.append({k: v for k, v in net.items() if k != "model"} | {"accuracy": curve})
    summary: dict[str, Any] = {}
    for source in sorted({r["source"] for r in rows}):
        sel = [r for r in rows if r["source"] == source]
        summary[source] = {
            key: [statistics.fmean(r["accuracy"][key][i] for r in sel) for i in range(len(kept))]
            for key in sel[0]["accuracy"]
        }
    return {"kept": kept, "networks": rows, "mean_accuracy": summary}


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few networks only (about a minute or two)")
    p.add_argument("--out", default=None, help="where to write the JSON (default bench/results/repair.json, "
                   "repair.quick.json with --quick so a CI run never overwrites the full figures)")
    p.add_argument("--zoo", default=str(ROOT / "zoos" / "backdoor-mlp"),
                   help=f"zoo with backdoored networks (default {ROOT / 'zoos' / 'backdoor-mlp'}: the repository's "
                        "zoos/ folder)")
    p.add_argument("--prune-zoo", default=str(ROOT / "zoos" / "mnist-mlp"),
                   help=f"zoo for the pruning curves (default {ROOT / 'zoos' / 'mnist-mlp'})")
    p.add_argument("--limit", type=int,
                   help="at most this many backdoored (and clean) networks (default: all; 4 with --quick)")
    p.add_argument("--skip", type=int, default=0, help="leave out the first N networks of each kind (with --limit: "
                   "networks N..limit-1; default 0)")
    p.add_argument("--runs", type=int, default=None,
                   help="only networks of the zoo's first N training runs (default: all; 384: the backdoor-mlp zoo's "
                        "size when bench/results/repair.json was measured, before the recipe grew to 1,536 runs)")
    p.add_argument("--blind-limit", type=int, default=48,
                   help="blind repairs (trigger reconstruction, slower) for the first N networks of each kind only "
                        "(default 48; -1: all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1: tiny networks)")
    p.add_argument("--workers", type=int, default=1, help="processes for the backdoor repairs (default 1)")
    p.add_argument("--modes", default="known,blind",
                   help="repairs to run: known (trigger given), blind, or both (default known,blind)")
    p.add_argument("--no-pruning", action="store_true", help="skip the pruning curves")
    args = p.parse_args(argv)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not modes or set(modes) - {"known", "blind"}:  # a typo would run no repair at all and still exit 0
        p.error(f"--modes: got {args.modes!r}; valid: known, blind, or known,blind")
    for name, low in (("limit", 1), ("skip", 0), ("runs", 1), ("threads", 1), ("workers", 1)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            p.error(f"--{name} must be >= {low}, got {getattr(args, name)}")
    if args.blind_limit < -1:
        p.error(f"--blind-limit must be >= 0 (or -1: all), got {args.blind_limit}")
    if args.out is None:
        args.out = str(ROOT / "bench" / "results" / ("repair.quick.json" if args.quick else "repair.json"))
    if Path(args.out).is_dir():  # found now, not after the repairs
        p.error(f"--out {args.out} is a directory; give a file path")
    torch.set_num_threads(args.threads)
    limit = args.limit if args.limit is not None else (4 if args.quick else None)
    kept = [1.0, 0.5, 0.2, 0.05] if args.quick else KEPT
    t0 = time.perf_counter()
    result = {
        "bench": "repair", "quick": args.quick, "args": vars(args),
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "threads": args.threads},
        "backdoor": backdoor_bench(Path(args.zoo), limit, None if args.blind_limit < 0 else args.blind_limit,
                                   args.workers, modes, args.skip,
                                   args.runs),
    }
    if not args.no_pruning:
        result["pruning"] = pruning_bench(Path(args.prune_zoo), 2 if args.quick else 6, 1 if args.quick else 3, kept)
    result["seconds"] = time.perf_counter() - t0
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
    print(text)
    log(f"wrote {args.out} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
