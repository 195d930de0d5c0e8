"""An index.sqlite from a stranger whose columns hold values of the wrong SQLite type: SQLite keeps a text that is no
number in an INTEGER column ('six' as an epoch), and a blob in any column. Reading such a zoo (summary, tasks, the
dataset's run split) or checking it must be a ZooError or a problem of ``zoo check``, never a raw TypeError from
sorting ints beside strings."""

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


def _update(zoo: Path, sql: str, *params) -> None:
    with sqlite3.connect(zoo / "index.sqlite") as c:
        c.execute(sql, params)
    c.close()


@pytest.mark.parametrize("column, value", [("epoch", "six"), ("run", "r"), ("run", b"\x00"), ("seed", "s"),
                                           ("task", b"\x00\xff"), ("recipe", b"\x01")])
def test_a_row_whose_column_has_the_wrong_type_is_a_zoo_error_naming_the_network(zoo_dir, column, value):
    first = min(r[0] for r in sqlite3.connect(zoo_dir / "index.sqlite").execute("SELECT id FROM nets"))
    _update(zoo_dir, f"UPDATE nets SET {column}=? WHERE id=?", value, first)
    with Zoo(zoo_dir) as z:
        for read in (lambda: z.summary(), lambda: z.tasks, lambda: z.dataset(split="train")):
            with pytest.raises(ZooError, match=rf"index row of network {first} is corrupt .*{column}"):
                read()


def test_zoo_info_of_a_row_with_a_text_epoch_is_one_line(zoo_dir, capsys):
    _update(zoo_dir, "UPDATE nets SET epoch='six' WHERE id=(SELECT MIN(id) FROM nets)")
    assert main(["zoo", "info", str(zoo_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is corrupt" in err[0], err


@pytest.mark.parametrize("sql", ["UPDATE nets SET shard=X'00ff' WHERE id=(SELECT MIN(id) FROM nets)",
                                 "UPDATE nets SET shard='shards/00000.safetensors' || char(0) || 'x' "
                                 "WHERE id=(SELECT MIN(id) FROM nets)",
                                 "UPDATE nets SET unit='u' WHERE id=(SELECT MIN(id) FROM nets)"])
def test_check_reports_a_shard_or_unit_of_the_wrong_type_as_a_problem(zoo_dir, sql, capsys):
    _update(zoo_dir, sql)
    with Zoo(zoo_dir) as z:
        rep = z.check()
    assert not rep.ok and rep.problems, rep
    assert main(["zoo", "check", str(zoo_dir)]) == 1
    assert "PROBLEMS" in capsys.readouterr().out

