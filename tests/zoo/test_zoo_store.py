"""The zoo index on disk (``metanet/zoo/store.py``): a locked index, a failed commit, a full disk, odd paths given to
``Store``, a journal left by a killed write seen by a read-only reader, and a foreign index with only a ``nets``
table; each is a ZooError that names the real problem. A check report counts in the singular and plural."""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from metanet.errors import ZooError
from metanet.zoo import Zoo
from metanet.zoo.store import SCHEMA, Store
from zoo_helpers import _copy, open_read_only, rows


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


def test_a_full_disk_while_writing_a_shard_is_a_zoo_error(tmp_path, monkeypatch):
    # a raw OSError naming a temporary file the user never asked for
    import metanet.zoo.store as store_mod

    def enospc(path, write):
        raise OSError(errno.ENOSPC, "No space left on device", str(path.parent / ".x.tmp"))

    monkeypatch.setattr(store_mod, "atomic_write", enospc)
    with Store(tmp_path / "z", create=True) as s:
        with pytest.raises(ZooError, match=r"cannot write the shard .*00003.safetensors \(No space left on device\)"
                                           r".*run the same build or merge again"):
            s.write_unit(3, b"x", [])
        assert s.done_units() == set()


def test_a_full_disk_in_the_index_is_not_called_damage(tmp_path):
    # "database or disk is full" read "is not a readable zoo index ... damaged ...: rebuild the zoo"
    class Full:
        def execute(self, *a):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    s = Store(tmp_path / "z", create=True)
    s.conn.close()
    s.conn = Full()
    with pytest.raises(ZooError, match="disk holding it is full") as e:
        s.done_units()
    assert "damaged" not in str(e.value) and "rebuild" not in str(e.value)


def _hot_journal(db: Path) -> None:
    """Leave ``index.sqlite-journal`` as a build killed inside a write transaction does (pages spilled)."""
    code = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size=1'); c.execute('BEGIN IMMEDIATE'); c.execute('DELETE FROM nets')\n"
        "for i in range(2000): c.execute('INSERT INTO meta(key, value) VALUES (?, ?)', (f'k{i}', 'x' * 200))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60)
    assert (db.parent / "index.sqlite-journal").stat().st_size > 0


def test_a_read_only_zoo_left_mid_write_names_the_journal_not_a_write(small_zoo, tmp_path):
    """A reader of a read-only zoo that a killed build left with a hot journal was told 'cannot write the zoo
    index ... build or merge into a writable directory', though it only read; now the journal is named."""
    z = _copy(small_zoo, tmp_path / "zoo copy")
    before = rows(z)
    _hot_journal(z / "index.sqlite")
    printed = open_read_only(z)
    assert printed.startswith("ZooError:"), printed
    msg = printed
    assert "index.sqlite-journal" in msg and "interrupted" in msg and "write access" in msg
    assert "build or merge into a writable directory" not in msg
    # with write access, SQLite rolls the half-written transaction back: the zoo is intact
    with Zoo(z) as zoo:
        assert zoo.check().ok
    assert rows(z) == before


def test_read_only_index_with_only_a_nets_table_names_the_foreign_index(tmp_path):
    """An index with a 'nets' table only (another tool's, a partial copy), read-only, was reported as 'cannot write
    the zoo index ... the zoo is read-only: build or merge into a writable directory', though the user only read."""
    z = tmp_path / "foreign zoo"
    (z / "shards").mkdir(parents=True)
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.executescript(SCHEMA.split("CREATE INDEX")[0])  # the nets table alone
    con.close()
    printed = open_read_only(z)
    assert printed.startswith("ZooError:"), printed
    assert "no 'units' and 'meta' tables" in printed and "not written by 'metanet zoo build'" in printed
    assert "build or merge into a writable directory" not in printed
    with Zoo(z) as zoo:  # with write access it opens (the tables are added), empty
        assert len(zoo) == 0


def test_tensor_sha256_hashes_a_0_dim_tensor_as_its_one_value():
    # a scalar (e.g. a temperature or a scale kept as a 0-dim parameter) raised "self.dim() cannot be 0 to view
    # Float as Byte"; its bytes are the value's, its shape [] is hashed too, so it differs from a 1-element vector
    import torch

    from metanet.zoo import tensor_sha256

    scalar = tensor_sha256({"t": torch.tensor(1.5)})
    assert scalar == tensor_sha256({"t": torch.tensor(1.5)})
    assert scalar != tensor_sha256({"t": torch.tensor(2.5)})
    assert scalar != tensor_sha256({"t": torch.tensor([1.5])})


def test_an_index_the_user_may_not_read_is_a_zoo_error(partial_tiny_zoo, monkeypatch):
    # a zoo whose owner kept index.sqlite private (mode 600) was a raw sqlite3 "unable to open database file"
    # (tests/test_permissions.py checks this as a real unprivileged user)
    import metanet.zoo.store as store_mod

    def refuse(*a, **k):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(store_mod.sqlite3, "connect", refuse)
    monkeypatch.setattr(store_mod.os, "access", lambda *a, **k: False)
    with pytest.raises(ZooError, match="cannot open the zoo index .*permission denied.*ask its owner"):
        Store(partial_tiny_zoo)


def test_a_check_report_counts_one_network_and_one_shard_in_the_singular():
    from metanet.zoo.store import CheckReport

    assert str(CheckReport(nets=1, units=1)) == "OK: 1 network in 1 shard checked"  # was "1 networks in 1 shards"
    assert str(CheckReport(nets=24, units=2)).startswith("OK: 24 networks in 2 shards checked")
