"""NeuronDB access: loading from paths with URI characters, query/column/ablation_matrix errors, index keys;
the paths NeuronDB files are written to and read from ('~', empty, bytes and non-path arguments, a file as the
output directory) and an interrupted write, which keeps the old database."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from inspect_helpers import PLANTED, planted_mlp, planted_task

import metanet.inspect.db as dbmod
from metanet.errors import ArchError, ConfigError, FileFormatError
from metanet.inspect import NeuronDB, inspect


@pytest.fixture(scope="module")
def db():
    return inspect(planted_mlp(), planted_task(), reader=None)


@pytest.mark.parametrize("name", ["run #1", "what?", "a%20b"])
def test_load_from_a_path_with_uri_characters(tmp_path, db, name):
    # the path went into a 'file:' URI unescaped: '#'/'?' cut it short (and dropped mode=ro, so sqlite created an
    # empty database at the cut path), '%20' was decoded
    out = tmp_path / name
    db.save(out)
    back = NeuronDB.load(out)
    assert len(back) == len(db) and back[(1, PLANTED)]["supports"] == db[(1, PLANTED)]["supports"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing created next to it


@pytest.mark.parametrize("sql", ["SELEC layer FROM neurons", "SELECT * FROM nope", "SELECT nope FROM neurons",
                                 "DELETE FROM neurons"])
def test_a_failing_query_is_a_config_error_naming_the_tables(db, sql):
    with pytest.raises(ConfigError, match=r"SQL query failed .*tables: neurons"):
        db.query(sql)
    assert db.query("SELECT COUNT(*) AS n FROM neurons") == [{"n": len(db)}]


def test_unknown_column_and_layer_are_named(db):
    with pytest.raises(ConfigError, match=r"no column 'nope'.*columns: layer, idx"):
        db.column("nope")
    with pytest.raises(ArchError, match=r"layer 7 is not a hidden layer of this database; its layers: \[1\]"):
        db.ablation_matrix(7)  # was an empty tensor of the wrong shape
    assert tuple(db.ablation_matrix(1).shape) == (9, 4)


def test_neuron_keys_are_whole_numbers(db):
    assert db[(np.int64(1), np.int32(PLANTED))] is db[(1, PLANTED)]
    with pytest.raises(KeyError, match="no neuron"):
        db[(1.9, 0)]  # int() read it as neuron (1, 0)


def test_max_examples_may_be_a_numpy_integer():
    db = inspect(planted_mlp(), planted_task(), reader=None, max_examples=np.int64(8))
    assert db.meta["n"] == 8


def test_index_does_not_call_a_constant_nonzero_neuron_safe_to_remove():
    import torch

    m = planted_mlp()
    with torch.no_grad():  # neuron 8: constant output 1, which class 1's logit needs (like a bias)
        m.layers[0].weight[8] = 0
        m.layers[0].bias[8] = 1.0
        m.layers[1].weight[:, 8] = torch.tensor([0.0, 5.0, 0.0, 0.0])
        m.layers[1].bias[1] -= 5.0
    db = inspect(m, planted_task(), reader=None)
    assert db[(1, 8)]["dead"] and db[(1, 8)]["ablation_acc"] == pytest.approx(-0.25)
    line = next(db.group_line(1, g) for g in db.groups(1) if g["kind"] == "dead")
    assert "safe to remove" not in line and "clamp it" in line and "25.0 points" in line
    # a never-active ReLU neuron (output 0) is safe to remove, and said to be
    plain = inspect(planted_mlp(), planted_task(), reader=None)
    assert "constant output 0): safe to remove" in next(plain.group_line(1, g) for g in plain.groups(1)
                                                        if g["kind"] == "dead")


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
