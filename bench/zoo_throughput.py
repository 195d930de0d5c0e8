"""Zoo training throughput: one population trained vectorised vs the same networks one at a time.

In one run, on the same machine state:

1. ``P`` runs sampled from a small recipe (one architecture and optimizer, per-run learning rate, weight decay,
   init scale, seed) are trained as one population (:func:`metanet.zoo.train_population`);
2. the same runs are trained one at a time with plain PyTorch (:func:`metanet.zoo.train_one`: ``nn.Module`` +
   ``torch.optim``), which is what a zoo built without vectorisation would do;
3. a plain fp32 matmul (``n x n @ n x n``) is timed with the same thread count, as the machine's attainable rate.

Reported (JSON on stdout): the speed-up (goal >= 10x), networks per second both ways, and the achieved GFLOP/s of
the vectorised run (training: 6 FLOPs per multiply-accumulate per example — forward, weight gradient, input
gradient — but 4 for the first layer, whose input needs no gradient; plus the evaluation forward passes) as a
fraction of the matmul's GFLOP/s (goal >= 0.6). Elementwise work (optimizer, activations,
loss) is not counted as FLOPs: it is the overhead the fraction exposes.

    python bench/zoo_throughput.py                      # defaults: 64 nets, mlp 784-64-10 on mnist, 1 epoch
    python bench/zoo_throughput.py --population 32 --task digits --width 32 --threads 2
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


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=64)
    p.add_argument("--task", default="mnist")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd", "adamw"])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-examples", type=int, default=3000)
    p.add_argument("--threads", type=int, default=1, help="torch threads (the zoo builder's default is 1 per worker)")
    p.add_argument("--sequential", type=int, default=None,
                   help="train only this many of the runs one at a time and scale up (default: all)")
    p.add_argument("--out", default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    recipe = load_recipe({
        "name": "bench", "seed": 0, "count": args.population, "population": args.population, "tasks": [args.task],
        "checkpoints": [], "arch": {"family": "mlp", "depth": args.depth, "width": args.width},
        "train": {"optimizer": args.optimizer, "lr": {"log_uniform": [3e-4, 3e-3]}, "weight_decay": [0.0, 1e-4],
                  "batch_size": args.batch_size, "epochs": args.epochs, "init_scale": {"uniform": [0.8, 1.2]},
                  "train_examples": args.train_examples},
        "eval": {"train_examples": 1000},
    })
    runs = recipe.runs()
    data = load_task_data(args.task, recipe.train_examples, recipe.eval_train_examples, recipe.seed)
    arch = runs[0].arch
    assert all(r.group_key() == runs[0].group_key() for r in runs)

    peak = matmul_gflops()
    # warm-up (allocator, kernels) on a small population, not timed
    train_population(runs[:2], {args.task: data})

    t0 = time.perf_counter()
    pop = train_population(runs, {args.task: data})
    t_vec = time.perf_counter() - t0

    k = len(runs) if args.sequential is None else max(1, min(args.sequential, len(runs)))
    t0 = time.perf_counter()
    seq = [train_one(r, data) for r in runs[:k]]
    t_seq = (time.perf_counter() - t0) * len(runs) / k

    # check: vectorised members equal the plain loop
    worst = max((pop[j].checkpoints[-1].state[n] - seq[j].checkpoints[-1].state[n]).abs().max().item()
                for j in range(k) for n in seq[j].checkpoints[-1].state)

    layer_macs = [a * b for a, b in zip(arch.widths[:-1], arch.widths[1:])]
    macs = sum(layer_macs)
    # training: forward 2, weight gradient 2, input gradient 2 FLOPs per MAC — except the first layer, whose input
    # (the data) needs no gradient; evaluation: forward only
    train_flops_per_example = 6 * macs - 2 * layer_macs[0]
    n_train = len(data.y_train)
    n_eval = len(data.y_eval_train) + len(data.y_val) + len(data.y_test)
    flops = len(runs) * (train_flops_per_example * n_train * args.epochs + 2 * macs * n_eval)
    achieved = flops / t_vec / 1e9
    result = {
        "population": len(runs),
        "arch": str(arch),
        "task": args.task,
        "optimizer": args.optimizer,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "train_examples": n_train,
        "threads": args.threads,
        "vectorised_seconds": round(t_vec, 3),
        "sequential_seconds": round(t_seq, 3),
        "sequential_measured_runs": k,
        "speedup": round(t_seq / t_vec, 2),
        "nets_per_second_vectorised": round(len(runs) / t_vec, 3),
        "nets_per_second_sequential": round(len(runs) / t_seq, 3),
        "achieved_gflops": round(achieved, 2),
        "matmul_gflops": round(peak, 2),
        "fraction_of_matmul": round(achieved / peak, 3),
        "max_abs_diff_vs_plain_loop": worst,
        "goals": {"speedup": 10, "fraction_of_matmul": 0.6},
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
                    "torch": torch.__version__, "python": platform.python_version()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
