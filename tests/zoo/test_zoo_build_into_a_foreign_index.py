"""A build or merge into a folder whose index.sqlite is another program's SQLite database is refused before
anything is written (it used to add the zoo's tables beside the foreign ones); an empty index, a zoo's and a
'nets'-only index are still built into."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import merge
from metanet.zoo.store import SCHEMA, Store

#: never trained here: every build below is refused before its first unit
RECIPE = {"name": "one", "seed": 1, "count": 1, "population": 1, "tasks": ["digits"], "checkpoints": [0],
          "arch": {"family": "mlp", "depth": 1, "width": 4, "activation": "relu"},
          "train": {"optimizer": "sgd", "lr": 0.01, "batch_size": 64, "epochs": 1, "train_examples": 64},
          "eval": {"train_examples": 32}}


def _foreign(folder: Path, *tables: str) -> Path:
    folder.mkdir(parents=True)
    con = sqlite3.connect(folder / "index.sqlite")
    for t in tables:
        con.execute(f"CREATE TABLE {t} (x INTEGER)")
    con.execute(f"INSERT INTO {tables[0]} VALUES (42)")
    con.commit()
    con.close()
    return folder


def _tables(folder: Path) -> list[str]:
    con = sqlite3.connect(folder / "index.sqlite")
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    finally:
        con.close()


def test_a_store_for_writing_refuses_another_programs_database(tmp_path):
    z = _foreign(tmp_path / "z", "foo", "bar", "baz", "qux")
    with pytest.raises(ZooError) as e:
        Store(z, create=True, lock=True)
    msg = str(e.value)
    assert "another program's SQLite database, not a zoo index" in msg
    assert "'bar', 'baz', 'foo' and 1 more" in msg and "give a new or empty directory, or an existing zoo" in msg
    # nothing written: no zoo table, no shards/, no .lock (as a build refused for an index that is a directory)
    assert _tables(z) == ["bar", "baz", "foo", "qux"]
    assert sorted(p.name for p in z.iterdir()) == ["index.sqlite"]


def test_a_lock_file_that_was_there_is_kept(tmp_path):
    z = _foreign(tmp_path / "z", "foo")
    (z / ".lock").touch()
    with pytest.raises(ZooError, match="another program's SQLite database"):
        Store(z, create=True, lock=True)
    assert sorted(p.name for p in z.iterdir()) == [".lock", "index.sqlite"]


def test_build_and_merge_refuse_it_and_the_cli_says_so_in_one_line(tmp_path, capsys):
    from metanet.zoo import build

    z = _foreign(tmp_path / "z", "foo")
    with pytest.raises(ZooError, match=r"index.sqlite is another program's SQLite database, not a zoo index .*'foo'"):
        build(copy.deepcopy(RECIPE), z, progress=False)
    src = tmp_path / "src"
    Store(src, create=True).close()  # an empty zoo: the destination is what is refused
    with pytest.raises(ZooError, match=r"index.sqlite is another program's SQLite database, not a zoo index .*'foo'"):
        merge(z, src)
    assert main(["zoo", "merge", str(z), str(src)]) == 2
    err = capsys.readouterr().err.strip()
    assert "another program's SQLite database" in err and len(err.splitlines()) == 1, err
    assert _tables(z) == ["foo"] and sorted(p.name for p in z.iterdir()) == ["index.sqlite"]


@pytest.mark.parametrize("kind", ["0 bytes", "no tables", "zoo", "nets only"])
def test_an_empty_index_a_zoo_and_a_nets_only_index_are_still_written_into(tmp_path, kind):
    z = tmp_path / "z"
    z.mkdir()
    if kind == "0 bytes":  # a build stopped before its schema
        (z / "index.sqlite").write_bytes(b"")
    else:
        con = sqlite3.connect(z / "index.sqlite")
        if kind == "no tables":
            con.execute("PRAGMA user_version = 1")  # a database file with a header, and no table
        elif kind == "zoo":
            con.executescript(SCHEMA)
        else:  # an older or foreign zoo layout that Zoo() upgrades
            con.executescript(SCHEMA.split("CREATE INDEX")[0])
        con.commit()
        con.close()
    with Store(z, create=True, lock=True) as s:
        assert s.done_units() == set()
    assert {"nets", "units", "meta"} <= set(_tables(z))
