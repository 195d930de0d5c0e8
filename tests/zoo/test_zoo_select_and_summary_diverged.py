"""`Zoo.select(diverged=...)` filters by each network's ``diverged`` column, and `summary()["diverged_runs"]` counts
runs, not networks. The small zoo has no diverged run, so one is marked in a copy's index (the column is what a
build writes after a non-finite loss)."""

from __future__ import annotations

import sqlite3

from zoo_helpers import _copy

from metanet.zoo import Zoo


def test_select_diverged_and_the_summary_count_runs(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    # two later checkpoints of run 1 stored after the run diverged (its epoch-0 checkpoint is not)
    con.execute("UPDATE nets SET diverged=1 WHERE run=1 AND epoch>0")
    con.commit()
    marked = [r[0] for r in con.execute("SELECT id FROM nets WHERE diverged=1 ORDER BY id")]
    con.close()
    assert len(marked) == 2
    with Zoo(z) as zoo:
        assert [n.id for n in zoo.select(diverged=True)] == marked
        assert [n.id for n in zoo.select(diverged=False)] == [n.id for n in zoo if n.id not in marked]
        assert [n.id for n in zoo.select(diverged=True, final=True)] == marked[-1:]
        assert zoo.summary()["diverged_runs"] == 1
    with Zoo(small_zoo) as zoo:
        assert zoo.select(diverged=True) == [] and zoo.summary()["diverged_runs"] == 0
