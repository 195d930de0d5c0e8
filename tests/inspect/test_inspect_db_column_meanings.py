"""The ``columns`` table of a neuron database: only ``layer``'s meaning is rewritten with the network's own weight
names; every other column keeps its meaning from :data:`~metanet.inspect.db.COLUMNS` (no weight names appended)."""

from __future__ import annotations

from metanet.inspect.db import COLUMNS, NeuronDB


def _row(layer: int) -> dict:
    row = {k: [] if k in ("class_means", "ablation_per_class", "supports", "top_examples") else None for k in COLUMNS}
    return {**row, "layer": layer, "idx": 0}


def test_only_the_layer_column_names_the_weights():
    info = {"1": {"weight": "fc1.weight"}, "2": {"weight": "fc2.weight"}}
    db = NeuronDB([_row(1), _row(2)], {"layer_info": info})
    got = {r["name"]: (r["type"], r["meaning"]) for r in db.query("SELECT name, type, meaning FROM columns")}
    assert list(got) == list(COLUMNS)
    assert got["layer"][1].endswith("; weights in: layer 1: fc1.weight, layer 2: fc2.weight")
    for name, (typ, meaning) in COLUMNS.items():
        if name != "layer":
            assert got[name] == (typ, meaning), name
