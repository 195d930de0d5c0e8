"""Several metanet processes on one zoo or output folder at once (two terminals, a cron job, a notebook).

Races are made certain, not likely: a process stops itself (SIGSTOP) at a chosen point, the test waits for the stop
(``waitpid(WUNTRACED)``), lets the other process go, and resumes it (SIGCONT). No sleeps, no timing.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job-control signals")

#: a build of the tiny recipe's first runs that stops itself before committing unit K and again once it is committed
BUILD = r"""
import os, signal, sys
from metanet.zoo import build
from metanet.zoo.store import Store

out, k = sys.argv[1], int(sys.argv[2])
original = Store.write_unit

def write_unit(self, unit, *args, **kw):
    if unit == k:
        print("before", unit, flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
    original(self, unit, *args, **kw)
    if unit == k:
        print("after", unit, flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)

Store.write_unit = write_unit
print(build("tiny", out, limit=8, progress=False), flush=True)
"""

#: `zoo check` that stops itself once it has read the units table and is about to read the networks' rows
CHECK = r"""
import json, os, signal, sys
import metanet

zoo = metanet.Zoo(sys.argv[1])
seen = []

def trace(sql):
    if "FROM units" in sql:
        seen.append("units")
    elif "FROM nets" in sql and seen == ["units"]:
        seen.append("nets")
        os.kill(os.getpid(), signal.SIGSTOP)

zoo._store.conn.set_trace_callback(trace)
print(json.dumps(zoo.check().to_dict()), flush=True)
"""

#: `zoo info` that stops itself once it has read the networks' rows and is about to count the units
INFO = r"""
import json, os, signal, sys
import metanet

zoo = metanet.Zoo(sys.argv[1])
seen = []

def trace(sql):
    if "FROM nets" in sql:
        seen.append("nets")
    elif "FROM units" in sql and seen == ["nets"]:
        seen.append("units")
        os.kill(os.getpid(), signal.SIGSTOP)

zoo._store.conn.set_trace_callback(trace)
print(json.dumps(zoo.summary()), flush=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stopped(p: subprocess.Popen) -> None:
    """Wait until ``p`` has stopped itself (or fail with its stderr if it exited instead)."""
    _, status = os.waitpid(p.pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        p.returncode = os.waitstatus_to_exitcode(status)
        raise AssertionError(f"process exited ({p.returncode}) instead of stopping: {p.stderr.read()[-3000:]}")


def _finish(p: subprocess.Popen) -> str:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    return out


def _index_locked(db: Path) -> bool:
    """Whether another process holds a lock on the SQLite index that keeps a writer from committing now."""
    con = sqlite3.connect(str(db), timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN EXCLUSIVE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as e:
        assert "locked" in str(e), e
        return True
    finally:
        con.close()


def test_check_during_a_build_sees_each_unit_whole(tmp_path: Path) -> None:
    """`zoo check` while a build commits a unit: it reported that unit's rows as "network rows but no units row (not
    committed: the index was edited)", a problem that does not exist, because it read the units table and the
    networks' rows in two separate moments and the unit was committed in between."""
    out = tmp_path / "zoo"
    b = _start(BUILD, str(out), "1")
    c = None
    try:
        _stopped(b)  # unit 0 committed, unit 1 trained and about to be written
        c = _start(CHECK, str(out))
        _stopped(c)  # units table read, networks' rows not yet
        if _index_locked(out / "index.sqlite"):
            # the check holds its snapshot: the build could not commit until it ends, so let the check end first
            os.kill(c.pid, signal.SIGCONT)
            report = json.loads(_finish(c))
            os.kill(b.pid, signal.SIGCONT)
            _stopped(b)
        else:  # nothing stops the build from committing unit 1 between the check's two reads: let it
            os.kill(b.pid, signal.SIGCONT)
            _stopped(b)
            os.kill(c.pid, signal.SIGCONT)
            report = json.loads(_finish(c))
        assert report["ok"], report["problems"]
        assert report["problems"] == [] and report["repairable"] == []
        os.kill(b.pid, signal.SIGCONT)
        _finish(b)
    finally:
        for p in (b, c):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    import metanet

    with metanet.Zoo(out) as zoo:  # and the build it watched is intact
        final = zoo.check()
        assert final.ok, final.problems
        assert final.nets == len(zoo) > 0


#: a run publishing into an output folder with `staged`, as `metanet inspect --out DIR` does; with "pause" it stops
#: itself once it has moved its first file into DIR
INSPECT = r"""
import os, signal, sys
from metanet.inspect.output import staged

out, tag, pause = sys.argv[1], sys.argv[2], sys.argv[3] == "pause"
real = os.replace

def replace(src, dst):
    global pause
    real(src, dst)
    if pause:
        pause = False
        os.kill(os.getpid(), signal.SIGSTOP)

os.replace = replace
with staged(out) as stage:
    (stage / "INDEX.md").write_text(tag)
    (stage / "neurons.sqlite").write_text(tag)
    (stage / "weights_layer0.png").write_text(tag)
"""


def _dir_locked(path: Path) -> bool:
    """Whether another process holds an exclusive flock on the directory ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_two_inspect_runs_into_one_folder_never_mix(tmp_path: Path) -> None:
    """Two `metanet inspect --out DIR` runs into one existing DIR: each moved its files in one by one, so a run moving
    its files while the other did left DIR with one run's INDEX.md beside the other's neurons.sqlite and pictures."""
    out = tmp_path / "out"
    out.mkdir()
    a = _start(INSPECT, str(out), "A", "pause")
    b = None
    try:
        _stopped(a)  # A has moved INDEX.md into out, not yet the rest
        if _dir_locked(out):  # A publishes under a lock: B waits for it, then replaces all of A's files
            b = _start(INSPECT, str(out), "B", "go")
            os.kill(a.pid, signal.SIGCONT)
            _finish(a)
            _finish(b)
        else:  # nothing keeps B from publishing in the middle of A's moves: let it
            b = _start(INSPECT, str(out), "B", "go")
            _finish(b)
            os.kill(a.pid, signal.SIGCONT)
            _finish(a)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    files = {p.name: p.read_text() for p in out.iterdir()}
    assert sorted(files) == ["INDEX.md", "neurons.sqlite", "weights_layer0.png"]  # no staging folder left either
    assert len(set(files.values())) == 1, files  # one run's files, not a mix


def test_a_second_build_into_the_same_zoo_is_refused_until_the_first_dies(tmp_path: Path, capsys) -> None:
    """Two `zoo build --out DIR` at once: the second is refused with a message naming the lock, and writes nothing;
    the lock dies with its holder (SIGKILL, no cleanup ran), so a third build resumes and completes the zoo."""
    out = tmp_path / "zoo"
    cli = [sys.executable, "-m", "metanet", "zoo", "build", "tiny", "--out", str(out), "--limit", "8", "--no-progress"]
    b = _start(BUILD, str(out), "1")
    try:
        _stopped(b)
        second = subprocess.run(cli, env=_env(), capture_output=True, text=True, timeout=300)
        assert second.returncode != 0
        assert "another build or merge is writing to" in second.stderr and ".lock is held" in second.stderr
        assert "Traceback" not in second.stderr
        assert sorted(p.name for p in (out / "shards").iterdir()) == ["00000.safetensors"]  # nothing of the second
    finally:
        b.kill()
        b.wait()
    # the third build runs after the holder died: no race is left to need a process of its own
    code, stdout, stderr = run_cli(cli[3:], capsys)
    assert code == 0, stderr[-3000:]
    assert "skipped 1 already done" in stdout
    import metanet

    with metanet.Zoo(out) as zoo:
        report = zoo.check()
        assert report.ok and not report.notes, report
        assert len(zoo) == 32  # 8 runs x 4 checkpoints


def test_info_during_a_build_counts_units_and_networks_together(tmp_path: Path) -> None:
    """`zoo info` while a build commits a unit: it counted the networks, then the units, and a unit committed in
    between made it report more units built than the networks it listed fill."""
    out = tmp_path / "zoo"
    b = _start(BUILD, str(out), "1")
    i = None
    try:
        _stopped(b)  # unit 0 committed, unit 1 about to be
        i = _start(INFO, str(out))
        _stopped(i)  # networks read, units not yet counted
        if _index_locked(out / "index.sqlite"):  # info holds its snapshot: the build cannot commit before it ends
            os.kill(i.pid, signal.SIGCONT)
            summary = json.loads(_finish(i))
            os.kill(b.pid, signal.SIGCONT)
            _stopped(b)
        else:
            os.kill(b.pid, signal.SIGCONT)
            _stopped(b)  # unit 1 committed
            os.kill(i.pid, signal.SIGCONT)
            summary = json.loads(_finish(i))
        os.kill(b.pid, signal.SIGCONT)
        _finish(b)
    finally:
        for p in (b, i):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    import metanet

    with metanet.Zoo(out) as zoo:
        unit0 = sum(n.shard == "shards/00000.safetensors" for n in zoo)
    assert (summary["networks"], summary["units"]) == (unit0, 1)
