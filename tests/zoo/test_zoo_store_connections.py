"""A zoo's per-thread index connections (``metanet/zoo/store.py``): ``close()`` in one thread while another reads, a
read after ``close()``, and a child forked while a parent thread is inside the store's connection bookkeeping."""

from __future__ import annotations

import os
import subprocess
import sys
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest
from process_helpers import in_child

import metanet
from metanet.errors import ZooError
from metanet.zoo import Zoo

#: a reader thread waits inside SQLite for another connection's lock while the main thread closes the zoo
CLOSE_WHILE_READING = r"""
import sqlite3, sys, threading
import metanet
from metanet.errors import ZooError

zoo = metanet.Zoo(sys.argv[1])
blocker = sqlite3.connect(str(zoo.path / "index.sqlite"), isolation_level=None)
blocker.execute("BEGIN EXCLUSIVE")  # another writer: the reader's next query waits for it inside SQLite
ready = threading.Event()
out = []

def read():
    zoo._store.conn  # this thread's connection, opened before the wait
    ready.set()
    for _ in range(2):
        try:
            zoo.refresh()
            out.append(len(zoo))
        except ZooError as e:
            out.append(str(e))

reader = threading.Thread(target=read)
reader.start()
ready.wait()
reader.join(0.5)  # only a wait: the reader is inside its query by now
closer = threading.Thread(target=zoo.close)
closer.start()
closer.join(0.5)  # only a wait: close() has begun (and waits for the reader's query, if it can)
blocker.execute("ROLLBACK")
reader.join()
closer.join()
for line in out:
    print(line)
"""


def test_closing_a_zoo_while_another_thread_is_inside_a_query_does_not_crash(small_zoo):
    # close() closed every thread's connection at once, one of them inside sqlite3_step in its thread: the process
    # died of a segmentation fault (CPython's sqlite3 is not safe against that)
    env = {**os.environ, "PYTHONPATH": str(Path(metanet.__file__).resolve().parents[1])}  # this metanet
    run = subprocess.run([sys.executable, "-c", CLOSE_WHILE_READING, str(small_zoo)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, f"exit status {run.returncode}: {run.stderr[-2000:]}"
    lines = run.stdout.splitlines()
    assert len(lines) == 2
    assert all(line == "24" or "was closed" in line for line in lines), lines


def test_a_read_after_close_says_the_zoo_was_closed_not_damaged(small_zoo):
    # was: "... is not a readable zoo index (Cannot operate on a closed database.); it was damaged or written by
    # something else: rebuild the zoo", for an intact zoo the caller had closed
    zoo = Zoo(small_zoo)
    len(zoo)
    zoo.close()
    zoo.refresh()
    with pytest.raises(ZooError) as e:
        len(zoo)
    message = str(e.value)
    assert "was closed" in message and "open the zoo again" in message
    assert "damaged" not in message and "rebuild" not in message


def _within(fn, seconds: float = 30.0) -> str:
    """``fn()`` in a thread, or "waited forever" if it has not returned after ``seconds`` (only reached when it
    blocks for good)."""
    done: list = []
    t = threading.Thread(target=lambda: done.append(fn()), daemon=True)
    t.start()
    t.join(seconds)
    return repr(done[0]) if done else "waited forever"


def test_a_child_forked_while_a_parent_thread_opens_a_connection_reads_the_zoo(small_zoo):
    # a fork while another parent thread held the lock of the per-thread connections (opening its connection, or
    # closing those of ended threads): the child inherited it held, and its first read of the index waited forever
    with Zoo(small_zoo) as zoo:
        len(zoo)
        held = zoo._store._conns_lock
        held.acquire()  # as that parent thread holds it at the fork
        try:
            got = in_child(lambda: _within(lambda: (zoo.refresh(), len(zoo))))
        finally:
            held.release()
        assert got == repr(repr((None, 24)))


def test_a_child_forked_while_a_parent_thread_is_inside_a_query_closes_the_zoo(small_zoo):
    # the child's close() closed its copy of the connection that a parent thread was inside at the fork, and waited
    # for good on the SQLite mutex that thread held; the child leaves its parent's connections alone
    with Zoo(small_zoo) as zoo:
        blocker = sqlite3.connect(str(zoo.path / "index.sqlite"), isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another writer: the reader's query waits for it inside SQLite
        ready = threading.Event()

        def read():
            zoo._store.conn  # this thread's connection, opened before the wait
            ready.set()
            zoo.refresh()
            return len(zoo)

        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(read)
            ready.wait()
            try:
                reading.result(0.5)  # only a wait: the reader is inside its query by now
            except FutureTimeout:
                pass
            try:
                got = in_child(lambda: _within(zoo.close))
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            assert reading.result() == 24  # the parent's connection is untouched
        assert got == repr("None")
