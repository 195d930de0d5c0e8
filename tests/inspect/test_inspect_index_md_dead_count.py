"""The summary line at the top of ``INDEX.md`` counts the dead neurons (constant output), not the live ones."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _row(idx: int, dead: bool) -> dict:
    return dict(layer=1, idx=idx, kind="unit", dead=int(dead), supports=[], ablation_per_class=[0.0, 0.0],
                support_strength=0.0, selectivity=0.0, top_class=None, description="", role=None, act_mean=0.0,
                out_norm=1.0, ablation_acc=0.0, outlier=0.0)


def test_index_md_counts_the_dead_neurons():
    db = NeuronDB([_row(0, False), _row(1, True), _row(2, False), _row(3, False)],
                  {"network": "mlp:2-4-2", "task": "t", "split": "test", "n": 10, "accuracy": 0.5,
                   "class_names": ["a", "b"]})
    summary = db.index_md().splitlines()[2]
    assert summary.endswith("accuracy 0.5000, 4 hidden neurons in 1 layer(s), 1 dead."), summary
