"""Round 28: NeuronDB files: '~', empty and non-path arguments, a file as the output directory, interruption."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from inspect_helpers import planted_mlp, planted_task

import metanet.inspect.db as dbmod
from metanet.errors import FileFormatError
from metanet.inspect import NeuronDB, inspect


@pytest.fixture(scope="module")
def db():
    return inspect(planted_mlp(), planted_task(), reader=None)


def test_tilde_is_the_home_folder(home, db):
    # a folder named '~' was created in the working directory (metanet.save and load expand it)
    paths = db.save("~/out")
    assert paths["sqlite"] == home / "out" / "neurons.sqlite" and (home / "out" / "INDEX.md").is_file()
    db.to_sqlite("~/one.sqlite")
    assert len(NeuronDB.load("~/out")) == len(db) == len(NeuronDB.load("~/one.sqlite"))
    assert os.listdir(Path.cwd()) == []


@pytest.mark.parametrize("call", ["save", "to_sqlite", "load"])
@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_path_is_named_and_nothing_is_written(tmp_path, monkeypatch, db, call, path):
    # save('') wrote into the working directory, load('') read whatever neurons.sqlite it held
    monkeypatch.chdir(tmp_path)
    db.save(".")  # a database in the working directory: load('') must not silently read it
    before = sorted(os.listdir(tmp_path))
    fn = NeuronDB.load if call == "load" else getattr(db, call)
    with pytest.raises(FileFormatError, match="is empty"):
        fn(path)
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("call", ["save", "to_sqlite", "load"])
def test_no_path_at_all_is_a_file_format_error(db, call):
    fn = NeuronDB.load if call == "load" else getattr(db, call)
    with pytest.raises(FileFormatError, match="must be a path .* got NoneType"):
        fn(None)


def test_bytes_paths_work(tmp_path, db):
    db.save(os.fsencode(tmp_path / "b"))
    assert len(NeuronDB.load(os.fsencode(tmp_path / "b"))) == len(db)


def test_an_existing_file_as_output_directory_is_named(tmp_path, db):
    # mkdir's 'File exists' read as if all was fine
    (tmp_path / "notes").write_text("keep")
    with pytest.raises(NotADirectoryError, match="is a file, not a directory") as info:
        db.save(tmp_path / "notes")
    assert info.value.filename == str(tmp_path / "notes")
    assert (tmp_path / "notes").read_text() == "keep"


def test_an_interrupted_write_keeps_the_old_database_and_leaves_no_temporaries(tmp_path, monkeypatch, db):
    db.save(tmp_path)
    before = (tmp_path / "neurons.sqlite").read_bytes()
    calls = []
    real = dbmod._jsonable

    def stop(v):  # interrupted halfway through the rows, inside sqlite's transaction
        calls.append(v)
        if len(calls) > 12:
            raise KeyboardInterrupt
        return real(v)

    monkeypatch.setattr(dbmod, "_jsonable", stop)
    with pytest.raises(KeyboardInterrupt):
        db.to_sqlite(tmp_path / "neurons.sqlite")
    assert sorted(os.listdir(tmp_path)) == ["INDEX.md", "neurons.sqlite"]
    assert (tmp_path / "neurons.sqlite").read_bytes() == before
