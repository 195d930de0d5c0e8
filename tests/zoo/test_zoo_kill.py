"""Crash safety: a real `python -m metanet zoo build` killed with SIGKILL mid-way, then run again, finishes the
zoo with no network lost, none duplicated and no corrupt shard — bit-identical to an uninterrupted build. What a
SIGKILL at an awkward moment leaves behind (a recipe temporary, a dead pool worker, pool workers of a killed build)
is also reproduced deterministically, from the state the kill leaves or a fake pool whose worker dies."""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
import yaml

from process_helpers import committed_units
from zoo_helpers import ROOT, rows, shard_bytes, subprocess_env
from metanet.errors import ZooError
from metanet.zoo import Zoo, build, load_recipe, plan
from metanet.zoo.store import Store

build_mod = importlib.import_module("metanet.zoo.build")  # the package exports the function under that name

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
    _kill_when(_start(recipe, out), lambda: committed_units(db) >= 1)
    done1 = committed_units(db, poll=False)
    # 2nd kill: right after a further shard file shows up (between rename and commit, or just after)
    n_files = len(list((out / "shards").glob("*.safetensors")))
    _kill_when(_start(recipe, out), lambda: len(list((out / "shards").glob("*.safetensors"))) > n_files)
    done2 = committed_units(db, poll=False)
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


def test_resume_removes_recipe_temporary_left_by_a_kill(small_recipe, small_zoo, tmp_path):
    # a build (or merge) killed inside atomic_write(recipe.yaml) leaves .recipe.yaml.XXXXXXXX.tmp in the zoo's root;
    # the resumed build cleaned only shards/.*.tmp, so the stray file stayed for good
    out = tmp_path / "zoo dir"
    build(small_recipe, out, limit=1, progress=False)
    stray = out / ".recipe.yaml.0badc0de.tmp"
    stray.write_text("name: half-writ")
    with Store(out) as s:
        assert any(stray.name in n for n in s.check().notes)  # check names it, as it names shards' temporaries
    build(small_recipe, out, limit=1, progress=False)
    assert not stray.exists()
    with Store(out) as s:
        rep = s.check()
    assert rep.ok and not rep.notes


def test_merge_removes_recipe_temporary_left_by_a_kill(small_zoo, tmp_path):
    from metanet.zoo.build import merge

    dst = tmp_path / "merged"
    dst.mkdir()
    stray = dst / ".recipe.yaml.12345678.tmp"
    stray.write_text("x")
    merge(dst, small_zoo)
    assert not stray.exists()
    assert shard_bytes(dst) == shard_bytes(small_zoo) and rows(dst) == rows(small_zoo)


class _FakePool:
    """A ProcessPoolExecutor stand-in: runs jobs in this process, except that the worker of ``dies`` is killed."""

    made: list[dict] = []

    def __init__(self, dies: int, **kw) -> None:
        self.dies = dies
        _FakePool.made.append(kw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, fn, payload, *args):
        fut: cf.Future = cf.Future()
        if payload["index"] == self.dies:
            fut.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        else:
            fut.set_result(fn(payload, *args))
        return fut


def test_killed_pool_worker_is_a_zoo_error_and_finished_units_are_kept(small_recipe, small_zoo, tmp_path,
                                                                       monkeypatch):
    # SIGKILL (or the OOM killer) on one --workers process: the build ended in a raw BrokenProcessPool traceback,
    # and units that had finished in the same wait were dropped instead of stored
    out = tmp_path / "zoo"
    _FakePool.made.clear()
    monkeypatch.setattr(cf, "ProcessPoolExecutor", lambda **kw: _FakePool(dies=1, **kw))
    with pytest.raises(ZooError, match=r"worker process of the build died.*units 1\b.*run the same build again"):
        build(small_recipe, out, workers=2, progress=False)
    # the pool's workers watch for the build process: a killed build no longer leaves them running forever
    assert _FakePool.made[0]["initializer"] is build_mod._watch_parent
    assert _FakePool.made[0]["initargs"] == (os.getpid(),)
    with Store(out) as s:
        assert 0 in s.done_units() and 1 not in s.done_units()
    monkeypatch.undo()
    summary = build(small_recipe, out, progress=False)  # resumes: the rest, bit-identical to one whole build
    assert summary.units_skipped >= 1
    assert shard_bytes(out) == shard_bytes(small_zoo) and rows(out) == rows(small_zoo)


def test_pool_worker_exits_when_the_build_process_is_killed(tmp_path):
    # the initializer's watchdog, for real: a process running it exits soon after its parent is SIGKILLed
    child = ("import os, sys, time\nfrom metanet.zoo.build import _watch_parent\n_watch_parent(os.getppid())\n"
             "print(os.getpid(), flush=True)\ntime.sleep(120)\n")
    parent = ("import subprocess, sys\np = subprocess.Popen([sys.executable, '-c', sys.argv[1]])\np.wait()\n")
    proc = subprocess.Popen([sys.executable, "-c", parent, child], cwd=str(ROOT), env=subprocess_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("the worker outlived its killed parent by 10 s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
