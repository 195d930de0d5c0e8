"""Benchmark: verify K networks in one vectorised call vs one call per network.

Both paths run side by side in one process on the same models and data, alternating, ``--repeats`` times each
(after one untimed warm-up of each); the medians and their ratio are reported. The run also checks that both
paths give identical accuracies (and losses within 1e-6) and exits with code 1 if they do not.

    python bench/verify_batched.py                 # K=64 MLP 784-64-10 on mnist/test, 5 repeats
    python bench/verify_batched.py --quick         # CI size: K=16, 3 repeats

Prints the JSON and writes it to ``--out`` (default ``bench/results/verify_batched.json``, or
``bench/results/verify_batched.quick.json`` with ``--quick`` so a CI run never overwrites the full figures).
"""

from __future__ import annotations

import argparse
import json
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

from metanet import tasks  # noqa: E402
from metanet.errors import MetanetError  # noqa: E402
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.nets import build  # noqa: E402
from metanet.verify import verify  # noqa: E402


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(k: int, repeats: int, task_name: str, split: str, arch: str) -> dict:
    task = tasks.get(task_name)
    n = len(task.split(split)[1])  # loads and caches the data before any timing
    models = [build(arch, seed=seed) for seed in range(k)]

    def batched():
        return verify(models, task, split=split)

    def loop():
        return [verify(m, task, split=split) for m in models]

    batched(), loop()  # warm-up (first-call allocations, lazy imports)
    batched_s, loop_s = [], []
    for _ in range(repeats):  # alternate so drifting machine load hits both paths alike
        s, batched_reports = _timed(batched)
        batched_s.append(s)
        s, loop_reports = _timed(loop)
        loop_s.append(s)

    acc_b = [r.accuracy for r in batched_reports]
    acc_l = [r.accuracy for r in loop_reports]
    per_class_equal = all(b.per_class == a.per_class for b, a in zip(batched_reports, loop_reports))
    max_loss_diff = max(abs(b.loss - a.loss) for b, a in zip(batched_reports, loop_reports))
    b_med, l_med = statistics.median(batched_s), statistics.median(loop_s)
    return {
        "benchmark": "verify_batched",
        "task": task.name,
        "split": split,
        "n": n,
        "arch": arch,
        "k": k,
        "repeats": repeats,
        "batched_seconds": round(b_med, 6),
        "loop_seconds": round(l_med, 6),
        "speedup": round(l_med / b_med, 3),
        "batched_runs": [round(s, 6) for s in batched_s],
        "loop_runs": [round(s, 6) for s in loop_s],
        "models_per_second_batched": round(k / b_med, 1),
        "models_per_second_loop": round(k / l_med, 1),
        "accuracies_equal": acc_b == acc_l and per_class_equal,
        "max_loss_diff": max_loss_diff,
        "accuracy_min": min(acc_b),
        "accuracy_max": max(acc_b),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine makes timings noisy
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=None, help="number of networks (default 64, 16 with --quick)")
    p.add_argument("--repeats", type=int, default=None, help="timed runs of each path (default 5, 3 with --quick)")
    p.add_argument("--task", default="mnist", help="task verified on (default mnist)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="split (default test)")
    p.add_argument("--arch", default="mlp:784-64-10:relu", help="architecture (default mlp:784-64-10:relu)")
    p.add_argument("--quick", action="store_true", help="CI-size run")
    p.add_argument("--out", type=Path, default=None,
                   help="where to write the JSON (default bench/results/verify_batched.json, "
                   "verify_batched.quick.json with --quick)")
    args = p.parse_args(argv)
    # 0 is not "the default": `args.k or 16` would silently run 16 networks when 0 was asked for
    for name in ("k", "repeats"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    k = args.k if args.k is not None else (16 if args.quick else 64)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    try:  # a bad task or architecture (or one not fitting the task) is an argument error, not a traceback
        verify(build(args.arch, seed=0), tasks.get(args.task), split=args.split)
    except MetanetError as e:
        p.error(str(e))
    out = args.out or ROOT / "bench" / "results" / ("verify_batched.quick.json" if args.quick else "verify_batched.json")

    result = run(k, repeats, args.task, args.split, args.arch)
    result["quick"] = args.quick
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    print(text)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text + "\n"))
    if not result["accuracies_equal"] or result["max_loss_diff"] > 1e-6:
        print("verify_batched: batched and one-by-one results differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
