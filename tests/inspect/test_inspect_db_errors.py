"""NeuronDB.to_sqlite: only the file system's refusals become a one-line OSError; other SQLite errors stay bugs."""

import errno
import sqlite3

import pytest

from metanet.inspect.db import NeuronDB


@pytest.mark.parametrize("message, code", [("database or disk is full", errno.ENOSPC), ("disk I/O error", errno.EIO),
                                           ("attempt to write a readonly database", errno.EIO)])
def test_a_refused_write_is_an_os_error_naming_the_file(tmp_path, monkeypatch, message, code):
    def refused(self, con):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(NeuronDB, "_fill", refused)
    with pytest.raises(OSError, match="cannot write the database") as e:
        NeuronDB([], {}).to_sqlite(tmp_path / "neurons.sqlite")
    assert e.value.errno == code and not (tmp_path / "neurons.sqlite").exists()


def test_a_programming_error_is_not_reported_as_a_disk_error(tmp_path, monkeypatch):
    # every OperationalError became OSError(EIO, 'cannot write the database'): a bug looked like a failing disk
    def bug(self, con):
        con.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(NeuronDB, "_fill", bug)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        NeuronDB([], {}).to_sqlite(tmp_path / "neurons.sqlite")
    assert list(tmp_path.iterdir()) == []
