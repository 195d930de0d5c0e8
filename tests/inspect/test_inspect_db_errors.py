"""NeuronDB.to_sqlite: only the file system's refusals become a one-line OSError; other SQLite errors stay bugs."""

import errno
import sqlite3

import pytest

from metanet.inspect.db import NeuronDB
from metanet.nets import build


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


# --- metanet inspect: SQLite's "disk I/O error" -----------------------------------------------------------------------


def test_inspect_disk_io_error_names_its_likely_causes(tmp_path, monkeypatch, capsys):
    from metanet import save
    from metanet.cli import main
    from metanet.inspect.db import NeuronDB

    def refused(self, con):  # what SQLite says for a write past a quota or file size limit (EDQUOT, EFBIG)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(NeuronDB, "_fill", refused)
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-16-10"), net, task="digits")
    out = tmp_path / "out"
    assert main(["inspect", str(net), "--no-reader", "--max-examples", "64", "--out", str(out)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    # was "cannot write the database (disk I/O error): .../neurons.sqlite", which read as a broken disk
    assert line == ("metanet: error: cannot write the database (disk I/O error: the file system refused the write, "
                    "e.g. a disk quota or file size limit reached or a failing disk; fix that and run again): "
                    f"{out / 'neurons.sqlite'}"), line
    assert not out.exists()


def test_inspect_full_disk_message_is_unchanged(tmp_path, monkeypatch):
    from metanet.inspect.db import NeuronDB

    def full(self, con):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(NeuronDB, "_fill", full)
    with pytest.raises(OSError, match=r"^\[Errno 28\] cannot write the database \(database or disk is full\): "):
        NeuronDB([], {}).to_sqlite(tmp_path / "neurons.sqlite")
