"""A zoo of many units: ``Store.check`` finds each shard's units row once, not by scanning every units row per shard
(O(units^2): 9 of 48 seconds of checking a zoo of 8,000 units), and its report is unchanged; ``Store.write_unit``
(each unit a build or merge commits) looks its unit up by key instead of reading every units row (a merge of 8,000
units read 32 million rows)."""

from __future__ import annotations

import sqlite3

import pytest

import metanet.zoo.store as store_mod
from metanet.errors import ZooError
from metanet.zoo.store import Store, shard_name

_UNIT_COLUMNS = {"unit", "shard", "sha256", "nets", "seconds", "created"}


class _CountingRow(dict):
    """A units row that counts the reads of its shard."""

    shard_reads = 0

    def __getitem__(self, key):
        if key == "shard":
            _CountingRow.shard_reads += 1
        return super().__getitem__(key)


def _index_of_lost_units(path, units: int) -> None:
    """A zoo index of ``units`` committed units of one network each, whose shards are all gone."""
    Store(path, create=True).close()
    con = sqlite3.connect(str(path / "index.sqlite"))
    with con:
        for u in range(units):
            con.execute("INSERT INTO units(unit, shard, sha256, nets, seconds, created) VALUES (?,?,?,?,?,?)",
                        (u, shard_name(u), "0" * 64, 1, 0.0, "2026-01-01T00:00:00+00:00"))
            con.execute("INSERT INTO nets(id, run, recipe, task, arch, arch_str, family, hparams, seed, epoch, shard, "
                        "unit, sha256, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (u, u, "r", "digits", "{}", "mlp:64-10:relu", "mlp", "{}", u, 0, shard_name(u), u, "0" * 64,
                         "2026-01-01T00:00:00+00:00"))
    con.close()


def test_check_reads_each_units_row_a_fixed_number_of_times(tmp_path, monkeypatch):
    units = 300
    _index_of_lost_units(tmp_path, units)
    real = store_mod._Rows.fetchall

    def fetchall(self):
        rows = real(self)
        if rows and set(rows[0].keys()) == _UNIT_COLUMNS:
            return [_CountingRow(zip(r.keys(), r)) for r in rows]
        return rows

    monkeypatch.setattr(store_mod._Rows, "fetchall", fetchall)
    _CountingRow.shard_reads = 0
    with Store(tmp_path) as store:
        rep = store.check()
    # was a scan of the units rows for every shard: 45,150 reads for 300 units
    assert _CountingRow.shard_reads <= 3 * units, _CountingRow.shard_reads
    # every lost shard is still matched to its units row: all of them missing and all repairable
    assert rep.nets == units and rep.repairable == list(range(units))
    assert sorted(p for p in rep.problems if p.endswith("(1 networks lost)")) == sorted(
        f"{shard_name(u)}: missing (1 networks lost)" for u in range(units))


def test_a_shard_recorded_by_two_units_rows_is_matched_to_the_first(tmp_path):
    _index_of_lost_units(tmp_path, 3)
    con = sqlite3.connect(str(tmp_path / "index.sqlite"))
    with con:  # an edited index: unit 2's row names unit 0's shard too
        con.execute("UPDATE units SET shard=? WHERE unit=2", (shard_name(0),))
    con.close()
    with Store(tmp_path) as store:
        rep = store.check()
    assert rep.repairable == [0, 1]  # unit 0's lost shard is unit 0's to rebuild (matched to the last: [1, 2])
    assert f"{shard_name(0)}: missing (1 networks lost)" in rep.problems


def _write_work(store: Store, unit: int) -> int:
    """SQLite virtual-machine instructions run by ``store.write_unit(unit, ...)`` (an empty unit)."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store.conn.set_progress_handler(count, 1)
    try:
        store.write_unit(unit, b"shard", [])
    finally:
        store.conn.set_progress_handler(None, 1)
    return steps[0]


def test_writing_a_unit_does_not_read_every_committed_unit(tmp_path):
    few, many = tmp_path / "few", tmp_path / "many"
    _index_of_lost_units(few, 1)
    _index_of_lost_units(many, 3000)
    with Store(few) as a, Store(many) as b:
        a.lock()
        b.lock()
        work_few, work_many = _write_work(a, 5000), _write_work(b, 5000)
        with pytest.raises(ZooError, match=r"unit 5000 .*already committed"):  # still refused once committed
            b.write_unit(5000, b"again", [])
        assert b.done_units() == set(range(3000)) | {5000}
    # was a read of every units row: about 50 instructions beside 1 committed unit, 9,000 beside 3,000
    assert work_many < work_few + 1000, (work_few, work_many)
