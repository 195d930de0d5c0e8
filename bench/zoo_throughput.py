"""Zoo training throughput: one population trained vectorised vs the same networks one at a time.

In one run, on the same machine state:

1. ``P`` runs sampled from a small recipe (one architecture and optimizer, per-run learning rate, weight decay,
   init scale, seed) are trained as one population (:func:`metanet.zoo.train_population`);
2. the same runs are trained one at a time with plain PyTorch (:func:`metanet.zoo.train_one`: ``nn.Module`` +
   ``torch.optim``), which is what a zoo built without vectorisation would do;
3. a plain fp32 matmul (``n x n @ n x n``) is timed with the same thread count, as the machine's attainable rate.

Reported (JSON on stdout): the speed-up (goal >= 10x), networks per second both ways, and the achieved GFLOP/s of
the vectorised run (training: 6 FLOPs per multiply-accumulate per example — forward, weight gradient, input
gradient — but 4 for the first layer, whose input needs no gradient; plus the evaluation forward passes of every
stored checkpoint) as a fraction of the matmul's GFLOP/s (goal >= 0.6). Elementwise work (optimizer, activations,
loss) is not counted as FLOPs: it is the overhead the fraction exposes.

The machine may be shared, so the three measurements are repeated ``--repeats`` times, interleaved (vectorised,
one at a time, matmul; the order alternates between repeats), and the median and best of the per-repeat ratios are
reported with the load average before and after. Both ways train the same runs with the same thread count.

Defaults: a representative unit of ``zoo/mnist-mlp.yaml`` — 64 runs of ``mlp:784-32-32-10`` (its middle width,
two hidden layers), batch 32, 2 epochs, checkpoints after each epoch. ``--preset previous`` restores the bench's
earlier defaults (``mlp:784-64-10``, batch 128, 1 epoch).

    python bench/zoo_throughput.py                      # mnist-mlp-like unit, 1 thread
    python bench/zoo_throughput.py --preset previous --threads 2
    python bench/zoo_throughput.py --population 32 --task digits --width 32 --depth 1 --batch-size 128
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metanet.errors import MetanetError  # noqa: E402
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.zoo import load_recipe, train_one, train_population  # noqa: E402
from metanet.zoo.data import load_task_data  # noqa: E402


def matmul_gflops(n: int = 1024, seconds: float = 2.0) -> float:
    """Best-of-repeats GFLOP/s of an fp32 ``n x n`` matmul."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = 0.0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        for _ in range(5):
            a @ b
        dt = (time.perf_counter() - t0) / 5
        best = max(best, 2 * n**3 / dt / 1e9)
    return best


PRESETS = {
    # a typical work unit of zoo/mnist-mlp.yaml (middle width, two hidden layers, its small batch size)
    "mnist-mlp": {"width": 32, "depth": 2, "batch_size": 32, "epochs": 2, "checkpoints": [1, 2]},
    # this bench's defaults before the mnist-mlp preset (kept for comparison)
    "previous": {"width": 64, "depth": 1, "batch_size": 128, "epochs": 1, "checkpoints": []},
}


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else 0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="mnist-mlp",
                   help="width/depth/batch/epochs/checkpoints defaults (explicit options override them; default mnist-mlp)")
    p.add_argument("--population", type=int, default=64, help="runs trained (default 64)")
    p.add_argument("--task", default="mnist", help="task (default mnist)")
    p.add_argument("--width", type=int, default=None, help="hidden width (default: the preset's, 32; previous: 64)")
    p.add_argument("--depth", type=int, default=None, help="hidden layers (default: the preset's, 2; previous: 1)")
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd", "adamw"],
                   help="optimizer (default adam)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size (default: the preset's, 32; previous: 128)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the preset's, 2; previous: 1)")
    p.add_argument("--checkpoints", type=str, default=None,
                   help="comma-separated epochs evaluated and stored (default: the preset's, 1,2; previous: the last)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout (default 0.0)")
    p.add_argument("--train-examples", type=int, default=3000,
                   help="training examples per run (default 3000)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the zoo builder's default is 1 per worker)")
    p.add_argument("--repeats", type=int, default=3,
                   help="interleaved repetitions of the three measurements (default 3)")
    p.add_argument("--sequential", type=int, default=None,
                   help="train only this many of the runs one at a time and scale up (default: all)")
    p.add_argument("--out", default=None, help="also write the JSON here (default: stdout only)")
    args = p.parse_args(argv)
    cfg = dict(PRESETS[args.preset])
    for k in ("width", "depth", "batch_size", "epochs"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    if args.checkpoints is not None:
        try:
            cfg["checkpoints"] = [int(c) for c in args.checkpoints.split(",") if c.strip()]
        except ValueError:
            p.error(f"--checkpoints must be comma-separated epoch numbers (e.g. 1,2), got {args.checkpoints!r}")
    # 0 or less: a traceback deep in training, or (--repeats, --sequential) silently run as 1
    for name in ("population", "threads", "repeats", "sequential", "train_examples"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.out and Path(args.out).is_dir():  # found now, not after minutes of training
        p.error(f"--out {args.out} is a directory; give a file path")
    torch.set_num_threads(args.threads)
    load_before = [round(x, 2) for x in os.getloadavg()]

    try:  # a bad task, size or checkpoint list is an argument error naming the problem, not a traceback
        recipe = load_recipe({
            "name": "bench", "seed": 0, "count": args.population, "population": args.population, "tasks": [args.task],
            "checkpoints": cfg["checkpoints"], "arch": {"family": "mlp", "depth": cfg["depth"], "width": cfg["width"]},
            "train": {"optimizer": args.optimizer, "lr": {"log_uniform": [3e-4, 3e-3]}, "weight_decay": [0.0, 1e-4],
                      "batch_size": cfg["batch_size"], "epochs": cfg["epochs"], "init_scale": {"uniform": [0.8, 1.2]},
                      "dropout": args.dropout, "train_examples": args.train_examples},
            "eval": {"train_examples": 1000},
        })
        runs = recipe.runs()
        data = load_task_data(args.task, recipe.train_examples, recipe.eval_train_examples, recipe.seed)
    except MetanetError as e:
        p.error(str(e))
    arch = runs[0].arch
    assert all(r.group_key() == runs[0].group_key() for r in runs)
    k = len(runs) if args.sequential is None else max(1, min(args.sequential, len(runs)))

    # warm-up (allocator, kernels) on a small population and one plain run, not timed
    train_population(runs[:2], {args.task: data})
    train_one(runs[0], data)

    reps: list[dict[str, float]] = []
    pop = seq = None
    for rep in range(max(1, args.repeats)):
        def vec() -> float:
            nonlocal pop
            t0 = time.perf_counter()
            pop = train_population(runs, {args.task: data})
            return time.perf_counter() - t0

        def one() -> float:
            nonlocal seq
            t0 = time.perf_counter()
            seq = [train_one(r, data) for r in runs[:k]]
            return (time.perf_counter() - t0) * len(runs) / k

        peak = matmul_gflops(seconds=1.0)
        t_vec, t_seq = (vec(), one()) if rep % 2 == 0 else tuple(reversed((one(), vec())))
        peak = max(peak, matmul_gflops(seconds=1.0))
        reps.append({"vectorised_seconds": t_vec, "sequential_seconds": t_seq, "matmul_gflops": peak})

    # check: vectorised members equal the plain loop
    worst = max((pop[j].checkpoints[-1].state[n] - seq[j].checkpoints[-1].state[n]).abs().max().item()
                for j in range(k) for n in seq[j].checkpoints[-1].state)

    layer_macs = [a * b for a, b in zip(arch.widths[:-1], arch.widths[1:])]
    macs = sum(layer_macs)
    # training: forward 2, weight gradient 2, input gradient 2 FLOPs per MAC — except the first layer, whose input
    # (the data) needs no gradient; evaluation: forward only, on three splits at every stored checkpoint
    train_flops_per_example = 6 * macs - 2 * layer_macs[0]
    n_train = len(data.y_train)
    n_eval = (len(data.y_eval_train) + len(data.y_val) + len(data.y_test)) * len(runs[0].checkpoints)
    flops = len(runs) * (train_flops_per_example * n_train * cfg["epochs"] + 2 * macs * n_eval)
    for r in reps:
        r["speedup"] = r["sequential_seconds"] / r["vectorised_seconds"]
        r["achieved_gflops"] = flops / r["vectorised_seconds"] / 1e9
        r["fraction_of_matmul"] = r["achieved_gflops"] / r["matmul_gflops"]
    med = {key: _median([r[key] for r in reps]) for key in reps[0]}
    rnd = lambda d: {key: round(v, 3) for key, v in d.items()}  # noqa: E731
    result = {
        "preset": args.preset,
        "population": len(runs),
        "arch": str(arch),
        "task": args.task,
        "optimizer": args.optimizer,
        "batch_size": cfg["batch_size"],
        "epochs": cfg["epochs"],
        "checkpoints": list(runs[0].checkpoints),
        "dropout": args.dropout,
        "train_examples": n_train,
        "threads": args.threads,
        "repeats": len(reps),
        "vectorised_seconds": round(med["vectorised_seconds"], 3),
        "sequential_seconds": round(med["sequential_seconds"], 3),
        "sequential_measured_runs": k,
        "speedup": round(med["speedup"], 2),
        "speedup_best": round(max(r["speedup"] for r in reps), 2),
        "nets_per_second_vectorised": round(len(runs) / med["vectorised_seconds"], 3),
        "nets_per_second_sequential": round(len(runs) / med["sequential_seconds"], 3),
        "gflop": round(flops / 1e9, 3),
        "achieved_gflops": round(med["achieved_gflops"], 2),
        "matmul_gflops": round(med["matmul_gflops"], 2),
        "fraction_of_matmul": round(med["fraction_of_matmul"], 3),
        "fraction_of_matmul_best": round(max(r["fraction_of_matmul"] for r in reps), 3),
        "per_repeat": [rnd(r) for r in reps],
        "max_abs_diff_vs_plain_loop": worst,
        "goals": {"speedup": 10, "fraction_of_matmul": 0.6},
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                    "torch": torch.__version__, "python": platform.python_version()},
    }
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    print(text)
    if args.out:
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(text + "\n"))  # parent made; never half-written
    return result


if __name__ == "__main__":
    main()
