"""`Zoo.check()` / `metanet zoo check` compare each network's tensors with the sha256 of its own index row, not only
each shard file with its units row: a row whose sha256 no longer matches its tensors (an index edited, rows of two
networks swapped) left the shard file intact, and check said OK to it."""

from __future__ import annotations

import sqlite3

from zoo_helpers import _copy

from metanet.zoo import Zoo


def test_check_reports_a_network_whose_row_sha256_differs_from_its_tensors(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    a, b = con.execute("SELECT id, sha256 FROM nets ORDER BY id LIMIT 2").fetchall()
    # two networks' hashes swapped: every shard file still matches its units row
    con.execute("UPDATE nets SET sha256=? WHERE id=?", (b[1], a[0]))
    con.execute("UPDATE nets SET sha256=? WHERE id=?", (a[1], b[0]))
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok
    assert [p for p in rep.problems if "do not match the row's sha256" in p] == [
        f"network {a[0]}: tensors in shards/00000.safetensors do not match the row's sha256",
        f"network {b[0]}: tensors in shards/00000.safetensors do not match the row's sha256"], rep.problems
    assert not any("file sha256" in p for p in rep.problems), rep.problems


def test_check_of_the_intact_copy_is_ok(small_zoo, tmp_path):
    with Zoo(_copy(small_zoo, tmp_path / "z")) as zoo:
        rep = zoo.check()
    assert rep.ok, rep.problems
