"""Round 28: the zoo index on disk: a locked index, a failed commit, odd paths given to Store."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from metanet.errors import ZooError
from metanet.zoo.store import Store


@pytest.fixture
def zoo_copy(tiny_zoo, tmp_path):
    dst = tmp_path / "zoo copy"
    shutil.copytree(tiny_zoo, dst)
    return dst


def _hold(path, how):
    con = sqlite3.connect(str(path / "index.sqlite"), isolation_level=None)
    con.execute(how)
    con.execute("SELECT COUNT(*) FROM nets").fetchone()
    return con


def test_a_locked_index_says_it_is_locked_not_damaged(zoo_copy):
    # "not a readable zoo index ... damaged ... rebuild the zoo": the wrong advice for another process's lock
    store = Store(zoo_copy)
    store.conn.execute("PRAGMA busy_timeout = 50")
    other = _hold(zoo_copy, "BEGIN EXCLUSIVE")
    try:
        for read in (store.rows, store.meta, store.done_units):
            with pytest.raises(ZooError, match="is locked by another process") as info:
                read()
            assert "rebuild" not in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(store.rows()) > 0 and store.done_units()
    store.close()


def test_a_commit_refused_as_busy_leaves_no_transaction_open(zoo_copy):
    # the refused COMMIT left the transaction (and its write lock) open: a raw sqlite3.OperationalError, then every
    # later write failed with "cannot start a transaction within a transaction"
    store = Store(zoo_copy)
    store.conn.execute("PRAGMA busy_timeout = 50")
    reader = _hold(zoo_copy, "BEGIN")  # a reader in a transaction: the COMMIT cannot take its exclusive lock
    with pytest.raises(ZooError, match="is locked by another process"):
        store.set_meta(probe="1")
    assert not store.conn.in_transaction
    reader.execute("COMMIT")
    reader.close()
    store.set_meta(probe2="2")
    assert "probe" not in store.meta() and store.meta()["probe2"] == "2"
    store.close()


@pytest.mark.parametrize("create", [False, True])
def test_an_index_that_is_a_directory_is_named(tmp_path, create):
    # "index.sqlite is missing", or a raw sqlite3.OperationalError 'unable to open database file' with create=True
    (tmp_path / "z" / "index.sqlite").mkdir(parents=True)
    with pytest.raises(ZooError, match="index.sqlite is not a file"):
        Store(tmp_path / "z", create=create)


@pytest.mark.parametrize("path", ["", "  ", b""])
def test_an_empty_zoo_path_is_named(tmp_path, monkeypatch, path):
    # Path('') is '.': ". is not a zoo" named a path never given, and create=True built into the working directory
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ZooError, match="zoo path is empty"):
        Store(path, create=True)
    assert list(tmp_path.iterdir()) == []


def test_no_path_and_bytes_paths(zoo_copy):
    with pytest.raises(ZooError, match="directory path .* got int"):
        Store(3)
    with Store(bytes(zoo_copy)) as store:
        assert len(store.rows()) > 0
