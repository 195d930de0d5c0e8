"""Round 27: crash safety of the zoo directory — a journal left by a killed write and a read-only reader, rows
without their units row, and a merge whose destination is among its sources."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from zoo_helpers import open_read_only, rows, shard_bytes

from metanet.errors import ZooError
from metanet.zoo import Zoo, build, merge


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


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


def test_check_reports_network_rows_without_their_units_row(small_zoo, small_recipe, tmp_path):
    """Rows whose units row is gone (an edited index) checked OK, yet a merge skipped that unit: its networks were
    silently missing from the merged zoo."""
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.execute("DELETE FROM units WHERE unit = 1")
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok and rep.repairable == [1]
    assert any("unit 1" in p and "no units row" in p for p in rep.problems), rep.problems
    assert rep.repair and "metanet zoo build" in rep.repair
    build(small_recipe, z, progress=False)  # what the hint says: the unit is rebuilt, bit-identically
    with Zoo(z) as zoo:
        assert zoo.check().ok
    assert rows(z) == rows(small_zoo) and shard_bytes(z) == shard_bytes(small_zoo)


def test_merge_into_itself_is_refused_and_not_counted_as_a_repair(small_zoo, tmp_path):
    """merge(dst, [dst]) with a broken unit dropped it and reported it repaired ("copied 0 units ... of the copied,
    1 replaced a missing or corrupt shard"): its networks were lost and the zoo then checked OK."""
    z = _copy(small_zoo, tmp_path / "dst")
    (z / "shards" / "00001.safetensors").unlink()
    n = len(rows(z))
    with pytest.raises(ZooError, match="destination .* itself"):
        merge(z, [z])
    with pytest.raises(ZooError, match="destination .* itself"):
        merge(z, str(z) + "/")
    assert len(rows(z)) == n  # nothing dropped
    with Zoo(z) as zoo:
        assert not zoo.check().ok  # still reported, still repairable
    # the destination among real sources (a glob matching it) is skipped; the others repair it
    result = merge(z, [z, small_zoo])
    assert result["units_repaired"] == 1 and result["units_copied"] == 1
    assert rows(z) == rows(small_zoo) and shard_bytes(z) == shard_bytes(small_zoo)

