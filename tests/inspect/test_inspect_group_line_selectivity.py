"""The INDEX.md line of a selective group quotes the group's highest selectivity ("up to"), not its lowest."""

from __future__ import annotations

from metanet.inspect import NeuronDB


def _row(idx: int, sel: float) -> dict:
    return {"layer": 1, "idx": idx, "kind": "unit", "fan_in": 4, "in_norm": 1.0, "out_norm": 1.0, "bias": 0.0,
            "act_mean": 0.5, "act_std": 0.3, "act_max": 2.0, "frac_active": 0.5, "dead": 0, "top_class": 1,
            "selectivity": sel, "class_means": [0.1, 0.9, 0.1], "ablation_acc": 0.0, "ablation_loss": 0.0,
            "ablation_per_class": [0.0, 0.0, 0.0], "supports": [], "support_strength": 0.0, "writes_to": None,
            "polysemanticity": 0.0, "top_examples": [0], "outlier": 0.0, "description": "", "role": None}


def test_a_selective_group_line_quotes_its_highest_selectivity():
    db = NeuronDB([_row(0, 0.55), _row(1, 0.93), _row(2, 0.71)],
                  {"network": "mlp:4-3-3", "task": "t", "split": "test", "n": 90, "accuracy": 0.9,
                   "per_class": [0.9, 0.9, 0.9], "class_names": ["0", "1", "2"], "support_threshold": 0.02})
    (g,) = db.groups(1)
    assert g["kind"] == "selective" and g["neurons"] == [0, 1, 2]
    line = db.group_line(1, g)
    assert "selectivity up to 0.93" in line and "0.55" not in line
    assert "selectivity up to 0.93" in db.index_md()
