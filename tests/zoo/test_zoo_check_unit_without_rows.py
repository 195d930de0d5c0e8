"""A committed unit whose network rows were all deleted (an edited index) is a problem for `check`, not only a
repairable unit: with the problem line gone, ``ok`` was True beside a non-empty ``repairable``."""

from __future__ import annotations

import sqlite3

from zoo_helpers import _copy

from metanet.zoo import Zoo


def test_check_reports_a_recorded_unit_with_no_network_rows(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.execute("DELETE FROM nets WHERE unit=1")
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok and rep.repairable == [1]
    assert "unit 1 is recorded but no network row points to shards/00001.safetensors" in rep.problems, rep.problems
