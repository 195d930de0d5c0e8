"""Hostile inputs: a ``--ckpt_path`` file naming a stranger's class, a ``neurons.sqlite`` whose tables are views, a
reader config with very many task names."""

from __future__ import annotations

import sqlite3
import sys

import pytest
import torch

from lightning_helpers import tiny_loop_fit
from metanet.cli import main
from metanet.errors import ConfigError, FileFormatError
from metanet.inspect.db import NeuronDB
from metanet.reader.model import Reader


@pytest.fixture
def planted_module(tmp_path, monkeypatch):
    """An importable module ``evil33s`` whose import (its top-level code) leaves a file ``imported``."""
    (tmp_path / "evil33s.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass X: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "imported"
    sys.modules.pop("evil33s", None)


@pytest.mark.parametrize("hparams", [
    {"_class_path": "evil33s.X"},
    {"class_path": "evil33s.X"},
    # a nested one, under metanet's own class (imported wherever a module's parameter takes a class)
    {"_class_path": "metanet.loop.lightning.LoopModule", "hidden": 8, "opt": {"class_path": "evil33s.X"}},
], ids=["_class_path", "class_path", "nested"])
def test_a_ckpt_naming_a_strangers_class_imports_nothing(tmp_path, capsys, planted_module, hparams):
    # LightningCLI imported the module of the checkpoint's _class_path while parsing: `this.Nothing` printed the
    # Zen of Python, any installed module's top-level code ran, before a jsonargparse error
    ckpt = tmp_path / "hostile.ckpt"
    torch.save({"hyper_parameters": hparams, "state_dict": {}}, ckpt)
    args = ["validate" if a == "fit" else a for a in tiny_loop_fit(tmp_path / "run", f"--ckpt_path={ckpt}")]
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"metanet: error: --ckpt_path {ckpt}: its hyperparameters name the class 'evil33s.X'")
    assert "metanet.loop.lightning.LoopModule" in err[0]
    assert not planted_module.exists() and "evil33s" not in sys.modules


def _db_with(tmp_path, neurons: str, meta: str = "CREATE TABLE meta (key TEXT, value TEXT)"):
    p = tmp_path / "neurons.sqlite"
    con = sqlite3.connect(p)
    con.execute(neurons)
    con.execute(meta)
    con.commit()
    con.close()
    return p


def test_an_endless_recursive_view_is_not_a_neuron_database(tmp_path):
    # SELECT * FROM an endless WITH RECURSIVE view grew without bound (3.7 GB in 20 s), then a raw MemoryError
    p = _db_with(tmp_path, "CREATE VIEW neurons AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                           "SELECT x AS layer, x AS idx FROM n")
    with pytest.raises(FileFormatError, match=r"not a neuron database written by metanet inspect \(DatabaseError: "
                                              r"neurons is a view, not a table\)"):
        NeuronDB.load(p)


def test_a_meta_view_or_missing_table_is_not_a_neuron_database(tmp_path):
    p = _db_with(tmp_path, "CREATE TABLE neurons (layer INTEGER, idx INTEGER)",
                 "CREATE VIEW META AS SELECT 'k' AS key, '1' AS value")  # names are case-insensitive in SQL
    with pytest.raises(FileFormatError, match="meta is a view, not a table"):
        NeuronDB.load(p)
    p.unlink()
    p = _db_with(tmp_path, "CREATE TABLE neurons (layer INTEGER, idx INTEGER)", "CREATE TABLE other (a)")
    with pytest.raises(FileFormatError, match="no such table: meta"):
        NeuronDB.load(p)


class _CountingList(list):
    """A list that counts how often it is iterated."""

    iterations = 0

    def __iter__(self):
        type(self).iterations += 1
        return super().__iter__()


def test_reader_tasks_are_checked_for_repeats_in_one_pass():
    # list(tasks).count(t) for each name: quadratic, a config of 30,000 task names took 15-21 s
    tasks = _CountingList([f"t{i}" for i in range(2000)] + ["t7", "t3", "t7"])
    _CountingList.iterations = 0
    with pytest.raises(ConfigError, match=r"^Reader tasks must be distinct, non-empty task names; got repeated "
                                          r"\['t3', 't7'\]$"):
        Reader(tasks=tasks, hidden=8, layers=1, probes=2)
    assert _CountingList.iterations <= 4  # a fixed number of passes, not one per name


def test_reader_tasks_that_are_not_hashable_are_one_config_error():
    # set(bad) of the check raised a raw TypeError (unhashable type: 'list') for a list among the names
    with pytest.raises(ConfigError, match=r"got non-names \[\['digits'\]\]"):
        Reader(tasks=["mnist", ["digits"]], hidden=8, layers=1, probes=2)
