"""``zoo check`` reports index rows that ``Zoo`` refuses (NetInfo.from_row: a text epoch or run, a blob task, hparams
that are no JSON object, an accuracy that is no number): it said OK to a zoo whose every read failed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import Zoo


@pytest.fixture
def zoo_dir(small_zoo, tmp_path) -> Path:
    return Path(shutil.copytree(small_zoo, tmp_path / "zoo"))


def _edit(zoo: Path, column: str, value: object) -> int:
    """Set ``column`` of the first network's row to ``value``; the network's id."""
    c = sqlite3.connect(zoo / "index.sqlite")
    with c:
        first = c.execute("SELECT MIN(id) FROM nets").fetchone()[0]
        c.execute(f"UPDATE nets SET {column}=? WHERE id=?", (value, first))
    c.close()
    return first


@pytest.mark.parametrize("column, value", [("epoch", "six"), ("run", "r"), ("task", b"\x00\xff"), ("recipe", b"\x01"),
                                           ("seed", 1.5), ("hparams", "not json"), ("hparams", "[1, 2]"),
                                           ("backdoor", "[1]"), ("test_acc", "high")])
def test_check_reports_a_row_zoo_refuses_naming_the_network_and_the_column(zoo_dir, column, value, capsys):
    nid = _edit(zoo_dir, column, value)
    with Zoo(zoo_dir) as z:
        with pytest.raises(ZooError, match=f"index row of network {nid} is corrupt"):
            z.summary()  # what every reader of the zoo meets
        rep = z.check()
    rows = [p for p in rep.problems if "Zoo cannot read" in p]
    assert len(rows) == 1 and rows[0].startswith(f"network {nid}: its index row holds what Zoo cannot read: "
                                                 f"{column} "), rep.problems
    assert not rep.ok
    assert main(["zoo", "check", str(zoo_dir)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEMS" in out and f"network {nid}: its index row" in out


def test_a_bad_arch_is_reported_once_and_a_good_zoo_has_no_row_problem(zoo_dir):
    with Zoo(zoo_dir) as z:
        assert z.check().ok
    nid = _edit(zoo_dir, "arch", '{"family": "mlp", "widths": [0]}')
    with Zoo(zoo_dir) as z:
        problems = z.check().problems
    assert [p for p in problems if p.startswith(f"network {nid}:")] == [
        p for p in problems if "its arch in the index is invalid" in p], problems
    assert len(problems) == 1, problems


def test_a_nets_table_without_a_column_zoo_reads_is_one_problem(zoo_dir, capsys):
    c = sqlite3.connect(zoo_dir / "index.sqlite")
    with c:
        c.execute("ALTER TABLE nets DROP COLUMN val_acc")  # SQLite >= 3.35
    c.close()
    with Zoo(zoo_dir) as z:
        rep = z.check()
    assert rep.problems == ["the index's nets table has no column val_acc: Zoo cannot read its rows (an index "
                            "written by another tool, or damaged)"], rep.problems
    assert main(["zoo", "check", str(zoo_dir)]) == 1
