"""A second `zoo build` or a `zoo merge` into a zoo whose build is stopped in the middle of committing a unit.

The first build holds SQLite's PENDING lock then (its COMMIT waits for a reader), which keeps new readers out. The
second opened the index before taking the zoo's ``.lock``, so its first read waited on SQLite's busy timeout (60 s a
statement) instead of being refused by the ``.lock`` at once: a full-suite run hung for 300 s on it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job-control signals")

#: a build that stops itself inside the commit of unit 0: another thread of it holds a read transaction, so the
#: COMMIT takes SQLite's PENDING lock and waits; the process stops once a fresh reader is refused (PENDING is held)
BUILD = r"""
import os, signal, sqlite3, sys, threading, time
from metanet.zoo import build
from metanet.zoo.store import Store

out = sys.argv[1]
original = Store.write_unit

def write_unit(self, unit, *args, **kw):
    if unit == 0:
        reading = threading.Event()

        def reader():
            with self.snapshot():
                self.conn.execute("SELECT count(*) FROM nets").fetchone()
                reading.set()
                probe = sqlite3.connect(str(self.db_path), timeout=0)
                while True:  # until the main thread's COMMIT holds PENDING
                    try:
                        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
                    except sqlite3.OperationalError:
                        break
                    time.sleep(0.01)
                os.kill(os.getpid(), signal.SIGSTOP)

        threading.Thread(target=reader, daemon=True).start()
        reading.wait()
    original(self, unit, *args, **kw)

Store.write_unit = write_unit
build("tiny", out, limit=8, progress=False)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_second_build_and_merge_are_refused_while_the_first_build_is_stopped_mid_commit(tmp_path: Path, capsys) -> None:
    from metanet.zoo import build

    out, src = tmp_path / "zoo", tmp_path / "src"
    build("tiny", src, limit=8, shard="7/8", progress=False)  # a merge source: no unit is in this shard, nothing trains
    first = subprocess.Popen([sys.executable, "-c", BUILD, str(out)], env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _, status = os.waitpid(first.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            first.returncode = os.waitstatus_to_exitcode(status)
            raise AssertionError(f"the first build exited ({first.returncode}) instead of stopping: "
                                 f"{first.stderr.read()[-3000:]}")
        probe = sqlite3.connect(str(out / "index.sqlite"), timeout=0)
        try:  # the stop point: readers of the index are kept out
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
        # in this process (a stopped writer is another one): each waited 60 s a statement on SQLite's lock, then
        # failed as "locked"
        for argv in (["zoo", "build", "tiny", "--out", str(out), "--limit", "8", "--no-progress"],
                     ["zoo", "merge", str(out), str(src)]):
            code, _, stderr = run_cli(argv, capsys)
            assert code == 2, stderr[-3000:]
            assert "another build or merge is writing to" in stderr and ".lock is held" in stderr, stderr[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["00000.safetensors"]  # nothing of the others
