"""Scale-out benchmark: 1 vs 2 processes for zoo building on Ray and for meta-training with Lightning DDP.

Both comparisons run in one invocation, one after the other, on the same machine state:

1. **Zoo on Ray.** The same recipe is built into two fresh directories by :func:`metanet.zoo.build` with
   ``backend="ray"``, once on a local Ray instance with ``num_cpus=1`` and once with ``num_cpus=2`` (one torch
   thread per Ray task). Reported: wall time of each build (Ray start-up excluded) and their ratio. The two zoos
   are also checked to hold identical networks (same sha256 per id), so the speed-up costs no determinism.
2. **Reader on Lightning DDP.** ``metanet train fit -c train/reader.yaml`` on the same zoo, once with
   ``--trainer.devices=1`` and once with ``--trainer.strategy=ddp --trainer.devices=2`` (CPU, gloo, one thread per
   process), logging every step. Throughput is read from the TensorBoard event file's wall times between the
   first and last logged training step, so process start-up, data loading and validation are excluded:
   ``networks/s = (steps - 1) * batch_size * devices / seconds``. A third run with 1 process and 2 torch threads
   shows what the same 2 cores give without DDP.

    python bench/scale_out.py                 # tiny recipe, 40 reader steps per process (--steps)
    python bench/scale_out.py --quick         # CI size: a 12-run slice of the recipe, 8 reader steps

Writes ``bench/results/scale_out.json`` (``scale_out.quick.json`` with ``--quick``) and prints it. A measurement that
fails (a build, a training run) is one error message and exit code 1; so are zoos that differ (their JSON is written).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet.io import atomic_write, json_safe  # noqa: E402


class MeasurementError(RuntimeError):
    """A measurement that could not be made or did not hold (zoos that differ): ``cli`` prints it, exit code 1."""


def ray_build(recipe: str, out: Path, cpus: int, limit: int | None) -> float:
    """Seconds to build ``recipe`` into ``out`` on a fresh local Ray instance with ``cpus`` CPUs."""
    import ray

    from metanet.zoo import build

    pp = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": pp, "OMP_NUM_THREADS": "1"}})
    try:
        t0 = time.perf_counter()
        build(recipe, out, backend="ray", limit=limit, threads=1, progress=False)
        return time.perf_counter() - t0
    finally:
        ray.shutdown()


def ddp_fit(zoo: Path, workdir: Path, devices: int, threads: int, steps: int, batch_size: int) -> dict:
    """Train the reader for ``steps`` steps per process; throughput from the TensorBoard wall times."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    args = [sys.executable, "-m", "metanet.train", "fit", "-c", str(ROOT / "train" / "reader.yaml"),
            "--trainer.accelerator=cpu", f"--trainer.devices={devices}", f"--trainer.max_steps={steps}",
            "--trainer.max_epochs=1000", "--trainer.max_time=null", "--trainer.log_every_n_steps=1",
            "--trainer.val_check_interval=null", "--trainer.check_val_every_n_epoch=1000",
            "--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={workdir}", f"--data.zoos=[{zoo}]", "--data.exclude_archs=[]",
            f"--data.batch_size={batch_size}", f"--model.export={workdir / 'reader.safetensors'}",
            f"--trainer.default_root_dir={workdir}"]
    if devices > 1:
        args.append("--trainer.strategy=ddp")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise MeasurementError(f"reader training with {devices} process(es) failed (exit {proc.returncode}): "
                               f"{' '.join(args)}\n{proc.stderr[-3000:]}")
    events = sorted(workdir.rglob("events.out.tfevents.*"))
    if not events:  # was an IndexError
        raise MeasurementError(f"reader training with {devices} process(es) wrote no TensorBoard event file "
                               f"under {workdir}: {' '.join(args)}")
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    tag = "train/loss"  # the reader's total training loss, logged every step
    scalars = acc.Scalars(tag) if tag in acc.Tags().get("scalars", []) else []
    if len(scalars) < 2:  # was a KeyError, or a ZeroDivisionError below
        raise MeasurementError(f"reader training with {devices} process(es) has {len(scalars)} logged training "
                               f"step(s) of {tag} in {events[0].parent}; throughput needs at least 2")
    dt = scalars[-1].wall_time - scalars[0].wall_time
    n_steps = scalars[-1].step - scalars[0].step
    return {"devices": devices, "threads_per_process": threads, "steps": steps, "logged_steps": len(scalars),
            "train_seconds": dt, "process_wall_seconds": wall,
            "networks_per_second": n_steps * batch_size * devices / dt}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe", default="tiny", help="zoo recipe (name in zoo/ or path; default tiny)")
    p.add_argument("--quick", action="store_true", help="CI size")
    p.add_argument("--steps", type=int, default=None, help="reader steps per process (default 40, quick 8)")
    p.add_argument("--batch-size", type=int, default=16, help="reader batch size per process (default 16)")
    p.add_argument("--out", default=None, help="where to write the JSON (default bench/results/scale_out.json, "
                   "scale_out.quick.json with --quick)")
    args = p.parse_args(argv)
    # throughput is read between the first and last logged step: one step gives 0 seconds (a ZeroDivisionError
    # after both zoo builds), and 0 silently meant the default
    if args.steps is not None and args.steps < 2:
        p.error(f"--steps must be >= 2 (throughput is timed between the first and last step), got {args.steps}")
    if args.batch_size < 1:
        p.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.out and Path(args.out).is_dir():
        p.error(f"--out {args.out} is a directory; give a file path")
    from metanet.errors import MetanetError
    from metanet.zoo import load_recipe

    try:  # before Ray starts, not as a traceback from inside the first build
        load_recipe(args.recipe)
    except MetanetError as e:
        p.error(f"--recipe: {e}")
    limit = 12 if args.quick else None
    steps = args.steps if args.steps is not None else (8 if args.quick else 40)
    result: dict = {"bench": "scale_out", "quick": args.quick, "recipe": args.recipe,
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                "python": platform.python_version(), "loadavg_start": os.getloadavg()}}
    with tempfile.TemporaryDirectory(prefix="metanet-scale-") as tmp:
        tmp = Path(tmp)
        one, two = (_measured(f"zoo build on Ray with {cpus} CPU{'s' if cpus > 1 else ''}", ray_build, args.recipe,
                              tmp / f"zoo{cpus}", cpus, limit) for cpus in (1, 2))
        from metanet.zoo import Zoo

        same = [(n.id, n.sha256) for n in Zoo(tmp / "zoo1")] == [(n.id, n.sha256) for n in Zoo(tmp / "zoo2")]
        result["zoo_ray"] = {"networks": len(Zoo(tmp / "zoo1")), "seconds_1_cpu": one, "seconds_2_cpus": two,
                             "speedup": one / two, "identical_zoos": same}
        runs = {}
        for name, devices, threads in (("1_process_1_thread", 1, 1), ("2_processes_ddp", 2, 1),
                                       ("1_process_2_threads", 1, 2)):
            work = tmp / f"ddp-{name}"
            work.mkdir()
            runs[name] = _measured(f"reader training ({name.replace('_', ' ')})", ddp_fit, tmp / "zoo1", work,
                                   devices, threads, steps, args.batch_size)
        base = runs["1_process_1_thread"]["networks_per_second"]
        result["reader_ddp"] = {**runs,
                                "speedup_ddp_vs_1_process": runs["2_processes_ddp"]["networks_per_second"] / base,
                                "speedup_2_threads_vs_1_thread":
                                    runs["1_process_2_threads"]["networks_per_second"] / base}
    result["machine"]["loadavg_end"] = os.getloadavg()
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    print(text)
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"scale_out{'.quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text + "\n"))
    if not same:  # the JSON above records it; the run is still a failure
        raise MeasurementError(f"the zoos built with 1 and 2 Ray CPUs differ (not the same networks, by sha256): the "
                               f"speed-up is not of the same build (results in {out})")
    return result


def _measured(what: str, fn: Any, *args: Any) -> Any:
    """``fn(*args)``; any failure as a MeasurementError naming ``what`` (a traceback stopped the script before)."""
    try:
        return fn(*args)
    except MeasurementError:
        raise
    except Exception as e:  # noqa: BLE001 - Ray, torch and the zoo build raise many kinds; all end the run the same
        raise MeasurementError(f"{what} failed: {type(e).__name__}: {e}") from e


def cli(argv: list[str] | None = None) -> int:
    """The script: 0 when every measurement was made (and the zoos agree), 1 with one error message otherwise."""
    try:
        main(argv)
    except MeasurementError as e:
        print(f"scale_out: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
