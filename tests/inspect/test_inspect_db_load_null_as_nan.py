"""`NeuronDB.load` reads SQLite's NULL back as NaN where a number is expected: a network with a NaN weight has NaN
figures, which SQLite stores as NULL; read back as None they broke the text of a reopened database
(``in/out norm {None:.2f}``) and arithmetic on the columns. A NULL bias stays None (no bias)."""

from __future__ import annotations

import math

from metanet.inspect.db import COLUMNS, NeuronDB

NAN = math.nan


def _row(idx: int, **kw) -> dict:
    r = {k: (0.0 if t == "REAL" else 0 if t == "INTEGER" else None) for k, (t, _) in COLUMNS.items()}
    r.update(layer=1, idx=idx, kind="unit", bias=None, class_means=[0.1, 0.2], ablation_per_class=[0.0, 0.0],
             supports=[], top_examples=[0], description="", top_class=0, writes_to=0)
    r.update(kw)
    return r


def test_null_figures_come_back_as_nan(tmp_path):
    broken = _row(0, in_norm=NAN, act_mean=NAN, selectivity=NAN, ablation_loss=NAN,
                  class_means=[NAN, 0.3], ablation_per_class=[NAN, -0.1], nonfinite="NaN incoming weights")
    db = NeuronDB([broken, _row(1, bias=0.5)], {"class_names": ["a", "b"], "accuracy": 0.5, "n": 4})
    back = NeuronDB.load(db.to_sqlite(tmp_path / "neurons.sqlite"))
    r = back[1, 0]
    for k in ("in_norm", "act_mean", "selectivity", "ablation_loss"):
        assert isinstance(r[k], float) and math.isnan(r[k]), (k, r[k])
    assert math.isnan(r["class_means"][0]) and r["class_means"][1] == 0.3
    assert math.isnan(r["ablation_per_class"][0]) and r["ablation_per_class"][1] == -0.1
    assert r["bias"] is None and back[1, 1]["bias"] == 0.5  # no bias is no number
    assert back[1, 1]["in_norm"] == 0.0  # a finite figure is read as itself
    assert "in/out norm nan/0.00" in back._neuron_line(r)  # the text of the reopened database
