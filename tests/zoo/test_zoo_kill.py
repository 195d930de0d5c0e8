"""Crash safety: a real `python -m metanet zoo build` killed with SIGKILL mid-way, then run again, finishes the
zoo with no network lost, none duplicated and no corrupt shard — bit-identical to an uninterrupted build."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from zoo_helpers import ROOT, subprocess_env
from metanet.zoo import Zoo, build, load_recipe, plan

RECIPE = {
    "name": "killme",
    "seed": 11,
    "count": 16,
    "population": 2,
    "tasks": ["digits"],
    "checkpoints": [0, 2],
    "arch": {"depth": 1, "width": 32},
    "train": {"optimizer": ["adam", "sgd"], "lr": {"log_uniform": [1e-3, 1e-2]}, "batch_size": 32, "epochs": 4,
              "train_examples": 800},
    "eval": {"train_examples": 200},
}


def _units(db: Path, poll: bool = True) -> int:
    """Committed units. While polling a live build: read-only and never waiting. After a kill: a normal connection,
    which rolls back a transaction the killed process left half-done (its hot journal)."""
    if not poll:
        con = sqlite3.connect(str(db), timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        finally:
            con.close()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _start(recipe: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "metanet", "zoo", "build", str(recipe), "--out", str(out), "--no-progress"],
        cwd=str(ROOT), env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 240.0) -> None:
    t0 = time.monotonic()
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"build exited before the kill point: {proc.stderr.read().decode()[-2000:]}")
        assert time.monotonic() - t0 < timeout, "kill point not reached in time"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_build_then_resume(tmp_path):
    recipe = tmp_path / "killme.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    out = tmp_path / "zoo"
    db = out / "index.sqlite"

    # 1st kill: as soon as the first unit is committed (the next one is being trained or written)
    _kill_when(_start(recipe, out), lambda: _units(db) >= 1)
    done1 = _units(db, poll=False)
    # 2nd kill: right after a further shard file shows up (between rename and commit, or just after)
    n_files = len(list((out / "shards").glob("*.safetensors")))
    _kill_when(_start(recipe, out), lambda: len(list((out / "shards").glob("*.safetensors"))) > n_files)
    done2 = _units(db, poll=False)
    assert 1 <= done1 <= done2
    total_units = len(plan(load_recipe(str(recipe))))
    assert done2 < total_units, "the build finished before it could be killed; make units slower"
    rep = Zoo(out).check()
    assert rep.ok, rep.problems  # a killed build never leaves a committed network without its tensors

    # run again (a real process) to completion
    proc = subprocess.run(
        [sys.executable, "-m", "metanet", "zoo", "build", str(recipe), "--out", str(out), "--no-progress"],
        cwd=str(ROOT), env=subprocess_env(), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"skipped {done2} already done" in proc.stdout

    zoo = Zoo(out)
    rep = zoo.check()
    assert rep.ok, rep.problems
    assert not any("orphan" in n or "temporary" in n for n in rep.notes)
    assert len(zoo) == RECIPE["count"] * 3  # epochs 0, 2 and the last one, 4
    assert len({(n.run, n.epoch) for n in zoo}) == len(zoo)  # none duplicated

    # identical to a build that was never interrupted
    ref = tmp_path / "ref"
    build(str(recipe), ref, progress=False)
    ref_zoo = Zoo(ref)
    assert [(n.id, n.sha256, n.test_acc) for n in zoo] == [(n.id, n.sha256, n.test_acc) for n in ref_zoo]
    for p in sorted((ref / "shards").glob("*.safetensors")):
        assert (out / "shards" / p.name).read_bytes() == p.read_bytes()
