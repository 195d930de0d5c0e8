"""A network row added by hand to a committed unit (a copy of another row under a new id): `Store.broken_units` calls
the unit's rows broken (more than it wrote, not only fewer), so a resumed build retrains it, and `check` reports the
count and the checkpoint stored twice."""

from __future__ import annotations

import sqlite3

from zoo_helpers import _copy

from metanet.zoo import Zoo
from metanet.zoo.store import NET_COLUMNS, Store


def test_a_unit_with_an_extra_row_is_broken_and_its_duplicate_checkpoint_reported(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.row_factory = sqlite3.Row
    first = con.execute("SELECT * FROM nets WHERE unit=0 ORDER BY id LIMIT 1").fetchone()
    wrote = con.execute("SELECT nets FROM units WHERE unit=0").fetchone()[0]
    new_id = con.execute("SELECT MAX(id) + 1 FROM nets").fetchone()[0]
    extra = {**{c: first[c] for c in NET_COLUMNS}, "id": new_id}
    con.execute(f"INSERT INTO nets({', '.join(NET_COLUMNS)}) VALUES ({', '.join('?' * len(NET_COLUMNS))})",
                [extra[c] for c in NET_COLUMNS])
    con.commit()
    con.close()
    with Store(z) as s:
        assert s.broken_units() == {0: "rows"}
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok and rep.repairable == [0]
    assert f"unit 0 has {wrote + 1} network rows but wrote {wrote} (rows deleted or added by hand)" in rep.problems
    assert f"run {first['run']} epoch {first['epoch']} is stored 2 times" in rep.problems, rep.problems
