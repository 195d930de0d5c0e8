"""``metanet zoo check DIR`` while a build of DIR runs: the build's temporary shard (being written) is its work in
progress, not a leftover of an interrupted write; the check says "build in progress". Once the build is dead (its
.lock released with it), the same temporary is a leftover again. A build stops itself (SIGSTOP) inside its shard
write: no sleeps, no timing."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys

import pytest
from zoo_helpers import _copy, subprocess_env

import metanet.zoo.store as store
from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import Zoo
from metanet.zoo.store import Store

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job-control signals")

#: a build of the tiny recipe's first runs that stops itself once unit 1's shard is written to its temporary file
BUILD = r"""
import os, signal, sys
import metanet.zoo.store as store
from metanet.zoo import build

original = store.atomic_write

def atomic_write(path, write):
    def stopping(tmp):
        write(tmp)
        if path.name == "00001.safetensors":
            print(tmp, flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
    return original(path, stopping)

store.atomic_write = atomic_write
build("tiny", sys.argv[1], limit=8, progress=False)
"""


def test_check_during_a_build_reports_it_in_progress_and_a_dead_builds_temporary_as_leftover(tmp_path, capsys):
    out = tmp_path / "zoo"
    b = subprocess.Popen([sys.executable, "-c", BUILD, str(out)], env=subprocess_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        _, status = os.waitpid(b.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), b.stderr.read()[-3000:]
        tmp = b.stdout.readline().strip()
        assert os.path.basename(tmp).endswith(".tmp") and os.path.isfile(tmp)
        assert main(["zoo", "check", str(out)]) == 0
        text = capsys.readouterr().out
        assert "build in progress" in text and "leftover" not in text and os.path.basename(tmp) not in text, text
        with Zoo(out) as zoo:
            assert zoo._store.writer_running()
    finally:
        b.kill()
        b.wait()
    # the build is dead: its temporary is a leftover of an interrupted write (the next build removes it)
    assert main(["zoo", "check", str(out)]) == 0
    text = capsys.readouterr().out
    assert "build in progress" not in text
    assert f"shards/{os.path.basename(tmp)}: leftover temporary file of an interrupted write" in text


def test_the_writer_itself_is_not_a_running_build(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    with Store(z) as s:
        assert not s.writer_running()  # nobody holds the lock
        s.lock()
        assert not s.writer_running()  # this store is the writer
        with Store(z) as other:
            assert other.writer_running()


def test_a_check_probing_the_lock_does_not_make_a_starting_build_fail(small_zoo, tmp_path, monkeypatch):
    # the probe holds a shared lock for an instant: a build taking the lock at that moment retries instead of
    # failing with "another build or merge is writing to"
    z = _copy(small_zoo, tmp_path / "z")
    probe = os.open(z / ".lock", os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    waits = []

    def sleep(seconds):  # the probe ends while the writer waits for its first retry
        waits.append(seconds)
        if seconds and len(waits) == 2:
            os.close(probe)

    monkeypatch.setattr(store.time, "sleep", sleep)
    try:
        with Store(z) as s:
            s.lock()
            assert s._lock_fd is not None
    finally:
        if len(waits) < 2:
            os.close(probe)
    assert waits == [0.0, 0.05]


def test_a_lock_held_for_good_still_refuses_a_second_writer(small_zoo, tmp_path, monkeypatch):
    z = _copy(small_zoo, tmp_path / "z")
    monkeypatch.setattr(store.time, "sleep", lambda seconds: None)
    with Store(z) as first, Store(z) as second:
        first.lock()
        with pytest.raises(ZooError, match="another build or merge is writing to"):
            second.lock()
