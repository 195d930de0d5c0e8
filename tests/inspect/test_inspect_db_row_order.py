"""`NeuronDB.rows` (and iteration, ``column``) are ordered by ``(layer, idx)`` whatever order the rows come in (a
reopened database's SELECT has no order): all of layer 1 first, not the neurons of every layer with index 0."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def test_rows_are_ordered_by_layer_then_index():
    given = [(2, 0), (1, 2), (2, 1), (1, 0), (1, 1)]
    db = NeuronDB([dict(layer=l, idx=j, supports=[]) for l, j in given], {})
    want = [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]
    assert [(r["layer"], r["idx"]) for r in db.rows] == want
    assert [(r["layer"], r["idx"]) for r in db] == want
    assert db.column("layer") == [1, 1, 1, 2, 2]
    assert db.column("idx") == [0, 1, 2, 0, 1]
