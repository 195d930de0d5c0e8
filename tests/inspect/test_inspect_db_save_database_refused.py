"""NeuronDB.save writes neurons.sqlite and INDEX.md together, whichever write is refused: a full disk while the
database is written leaves the last run's INDEX.md in place too (written first, the new INDEX.md would describe a
measurement the old database beside it does not hold)."""

from __future__ import annotations

import errno
import os
import sqlite3

import pytest
from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import NeuronDB, inspect


def test_a_full_disk_on_the_database_leaves_index_md_as_it_was(tmp_path, monkeypatch):
    net = planted_mlp()
    old = inspect(net, planted_task(), reader=None)
    new = inspect(net, planted_task(), reader=None, max_examples=20)
    assert old.index_md() != new.index_md()
    old.save(tmp_path)
    before = {p: (tmp_path / p).read_bytes() for p in ("neurons.sqlite", "INDEX.md")}

    def full(self, con):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(NeuronDB, "_fill", full)
    with pytest.raises(OSError) as info:
        new.save(tmp_path)
    assert info.value.errno == errno.ENOSPC
    assert sorted(os.listdir(tmp_path)) == ["INDEX.md", "neurons.sqlite"]  # no temporaries
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
