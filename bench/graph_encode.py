"""Neural-graph encode / decode cost.

Per network: ``to_graph(model)`` and ``from_graph(graph)`` for MLP 784-64-10 and the CNN family, each as a ratio
to copying the network's state dict (``{k: v.clone() for k, v in state_dict.items()}``) measured in the same run,
interleaved round by round so that all three see the same machine load (goal: <= 5x). Per population: graphs
per second for P networks of one architecture given as stacked parameters (``to_batch``, ``to_graphs``,
``from_graphs``), next to PyG's own ``Batch.from_data_list`` on the same graphs.

Usage::

    python bench/graph_encode.py [--quick] [--out bench/results/graph_encode.json] [--threads 1]

Prints the JSON result and writes it to ``--out`` (default ``bench/results/graph_encode.json``, or
``graph_encode.quick.json`` with ``--quick``). ``--quick`` is a CI-size run (fewer repeats, P = 64).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch_geometric.data import Batch  # noqa: E402

from metanet.graph import (  # noqa: E402
    from_graph,
    from_graphs,
    layout,
    to_batch,
    to_graph,
    to_graphs,
    to_state_dict,
)
from metanet.io import atomic_write, json_safe  # noqa: E402
from metanet.nets import build  # noqa: E402

SINGLE = [
    ("mlp:784-64-10:relu", (1, 28, 28)),
    ("cnn:1-16-16-10:relu:k3:s2", (1, 28, 28)),
    ("cnn:1-8-16-16-10:relu:k3:s2", (1, 28, 28)),
    ("cnn:3-16-32-32-10:gelu:k5:s2", (3, 32, 32)),
]
POPULATION = ["mlp:784-64-10:relu", "cnn:1-16-16-10:relu:k3:s2", "cnn:3-16-32-32-10:gelu:k5:s2"]
GOAL = 5.0


def per_call(fns: dict[str, Callable[[], object]], rounds: int, min_time: float) -> dict[str, float]:
    """Median seconds per call of each function; the functions take turns, one timed batch each per round.

    Time is the CPU time of this thread (``time.thread_time``): with one intra-op thread every torch op runs here,
    and time spent descheduled by other load on the machine does not count.
    """
    loops = {}
    for name, fn in fns.items():  # warm up and size each batch to about min_time
        fn()
        n, t = 1, 0.0
        while True:
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            t = time.thread_time() - t0
            if t >= min_time or n >= 1 << 16:
                break
            n *= 2
        loops[name] = n
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            n = loops[name]
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            samples[name].append((time.thread_time() - t0) / n)
    return {k: statistics.median(v) for k, v in samples.items()}


def single(arch: str, input_shape: tuple[int, ...], rounds: int, min_time: float) -> dict:
    model = build(arch, seed=0).eval()
    state = model.state_dict()
    graph = to_graph(model)
    back = from_graph(graph)
    x = torch.rand(8, *input_shape)
    with torch.no_grad():
        exact = torch.equal(model(x), back(x)) and all(
            torch.equal(a, b) for a, b in zip(state.values(), back.state_dict().values())
        )
    t = per_call(
        {
            "copy_state_dict": lambda: {k: v.clone() for k, v in state.items()},
            "state_dict_and_copy": lambda: {k: v.clone() for k, v in model.state_dict().items()},
            "encode": lambda: to_graph(model),
            "decode": lambda: from_graph(graph),
            "decode_state_dict": lambda: to_state_dict(graph),
        },
        rounds,
        min_time,
    )
    base, base2 = t["copy_state_dict"], t["state_dict_and_copy"]
    return {
        "arch": arch,
        "parameters": sum(v.numel() for v in state.values()),
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "edge_dim": graph.edge_attr.shape[1],
        "exact_round_trip": bool(exact),
        "copy_state_dict_us": round(base * 1e6, 2),
        "encode_us": round(t["encode"] * 1e6, 2),
        "decode_us": round(t["decode"] * 1e6, 2),
        "encode_ratio": round(t["encode"] / base, 2),
        "decode_ratio": round(t["decode"] / base, 2),
        "decode_state_dict_us": round(t["decode_state_dict"] * 1e6, 2),
        "decode_state_dict_ratio": round(t["decode_state_dict"] / base, 2),
        "state_dict_and_copy_us": round(base2 * 1e6, 2),
        "encode_ratio_vs_state_dict_and_copy": round(t["encode"] / base2, 2),
        "decode_ratio_vs_state_dict_and_copy": round(t["decode"] / base2, 2),
    }


def population(arch: str, p: int, rounds: int) -> dict:
    lay = layout(arch)
    gen = torch.Generator().manual_seed(0)
    params = {k: torch.randn(p, *s.shape, generator=gen) * 0.1 for k, s in lay.slots.items()}
    batch = to_batch(arch, params)
    graphs = to_graphs(arch, params)
    pop = from_graphs(batch)
    exact = all(torch.equal(pop.params[k], v) for k, v in params.items())
    del pop
    t = per_call(
        {
            "copy_params": lambda: {k: v.clone() for k, v in params.items()},
            "to_batch": lambda: to_batch(arch, params),
            "to_graphs": lambda: to_graphs(arch, params),
            "from_graphs_batch": lambda: from_graphs(batch),
            "pyg_from_data_list": lambda: Batch.from_data_list(graphs),
        },
        rounds,
        0.0,
    )
    nbytes = sum(v.numel() * v.element_size() for v in batch.to_dict().values() if isinstance(v, torch.Tensor))
    return {
        "arch": arch,
        "population": p,
        "exact_round_trip": bool(exact),
        "batch_mb": round(nbytes / 2**20, 1),
        "params_mb": round(sum(v.numel() * v.element_size() for v in params.values()) / 2**20, 1),
        "seconds": {k: round(v, 5) for k, v in t.items()},
        "graphs_per_second": {k: round(p / v) for k, v in t.items() if k != "copy_params"},
        "to_batch_ratio_to_copy": round(t["to_batch"] / t["copy_params"], 2),
        "from_graphs_ratio_to_copy": round(t["from_graphs_batch"] / t["copy_params"], 2),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI-size run: fewer repeats, population of 64")
    ap.add_argument("--out", default=None, help="where to write the JSON (default bench/results/graph_encode.json, "
                    "graph_encode.quick.json with --quick so a CI run never overwrites the full figures)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: stable timings)")
    ap.add_argument("--population", type=int, default=None, help="networks per population (default 1024; 64 quick)")
    args = ap.parse_args(argv)
    for name in ("threads", "population"):  # 0 would silently mean the default population; < 0 a traceback
        if getattr(args, name) is not None and getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)
    p = args.population if args.population is not None else (64 if args.quick else 1024)
    rounds, min_time = (5, 0.01) if args.quick else (21, 0.05)
    pop_rounds = 3 if args.quick else 5
    t0 = time.perf_counter()
    singles = [single(a, s, rounds, min_time) for a, s in SINGLE]
    pops = [population(a, p, pop_rounds) for a in POPULATION]
    worst = max(max(r["encode_ratio"], r["decode_ratio"]) for r in singles)
    result = {
        "benchmark": "graph_encode",
        "quick": args.quick,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": args.threads,
        "baseline": (
            "copy of the state dict: {k: v.clone() for k, v in sd.items()} on an existing sd (the ratios and the goal); "
            "also model.state_dict() + copy (the *_vs_state_dict_and_copy ratios); same run, interleaved, medians"
        ),
        "goal": {"max_ratio": GOAL, "worst_ratio": worst, "met": worst <= GOAL},
        "single": singles,
        "population": pops,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    print(text)
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / (
        "graph_encode.quick.json" if args.quick else "graph_encode.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text + "\n"))  # never a half-written results file
    return result


if __name__ == "__main__":
    main()
