"""A zoo's ``.lock`` is never deleted by a Store other than the one that made it: opening and closing a second Store
on the folder (a reader, a refused writer, a writer refused for a foreign index) leaves the holder's file, and its
lock, in place; only a Store refused for another program's index removes the ``.lock`` it made itself."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest

from metanet.errors import ZooError
from metanet.zoo.store import Store

BUSY = r"another build or merge is writing to .*\(its \.lock is held\)"


def _held(lock: Path) -> bool:
    """Whether some open file holds ``lock``'s flock (probed exclusively, released at once)."""
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _hold(lock: Path) -> int:
    """Another writer's lock on ``lock`` (its file created if missing): the fd to close."""
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _foreign(folder: Path) -> Path:
    folder.mkdir()
    con = sqlite3.connect(folder / "index.sqlite")
    con.execute("CREATE TABLE notes (x INTEGER)")
    con.commit()
    con.close()
    return folder


def test_a_second_store_opened_and_closed_keeps_the_writers_lock(tmp_path: Path) -> None:
    z = tmp_path / "zoo"
    writer = Store(z, create=True, lock=True)
    lock = z / ".lock"
    inode = lock.stat().st_ino
    try:
        with Store(z) as reader:  # a reader: opens no .lock, and its close releases nothing of the writer's
            assert reader.writer_running()
        with Store(z, create=True):
            pass
        with pytest.raises(ZooError, match=BUSY):
            Store(z, create=True, lock=True)
        second = Store(z)
        with pytest.raises(ZooError, match=BUSY):
            second.lock()
        second.close()
        assert lock.stat().st_ino == inode and _held(lock)
    finally:
        writer.close()
    assert lock.stat().st_ino == inode and not _held(lock)  # released on close, the file kept for the next writer


def test_a_store_refused_for_a_foreign_index_removes_only_the_lock_it_made(tmp_path: Path, monkeypatch) -> None:
    z = _foreign(tmp_path / "foreign")
    lock = z / ".lock"
    with pytest.raises(ZooError, match="another program's SQLite database"):
        Store(z, create=True, lock=True)
    assert not lock.exists()  # its own: removed
    holder = _hold(lock)  # a .lock another process holds (and made): kept, whether held ...
    try:
        with pytest.raises(ZooError, match=BUSY):
            Store(z, create=True, lock=True)
        assert lock.exists() and _held(lock)
    finally:
        os.close(holder)
    with pytest.raises(ZooError, match="another program's SQLite database"):  # ... or released by then
        Store(z, create=True, lock=True)
    assert lock.exists()
    lock.unlink()
    # made by another process between this Store's look for a .lock and its taking it: refused as held, not removed
    holders: list[int] = []
    take = Store._take_lock

    def raced(self: Store) -> None:
        holders.append(_hold(self.path / ".lock"))
        take(self)

    monkeypatch.setattr(Store, "_take_lock", raced)
    try:
        with pytest.raises(ZooError, match=BUSY):
            Store(z, create=True, lock=True)
        assert lock.exists() and _held(lock)
    finally:
        for fd in holders:
            os.close(fd)
