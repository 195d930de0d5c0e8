"""The neuron lines of ``INDEX.md`` list the classes zeroing the neuron costs accuracy ("zeroing costs 1 -10.0");
a class it costs nothing (a change of 0) is no cost and is left out, and a neuron that costs none says "none"."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _row(idx: int, apc: list[float]) -> dict:
    return dict(layer=1, idx=idx, kind="unit", dead=0, supports=[], ablation_per_class=apc, support_strength=0.0,
                selectivity=0.9, top_class=0, description="", role=None, ablation_acc=-0.01, frac_active=0.5,
                polysemanticity=0.1, in_norm=1.0, out_norm=1.0, writes_to=None, outlier=0.0)


def _neuron_lines(rows: list[dict]) -> list[str]:
    db = NeuronDB(rows, {"class_names": [str(c) for c in range(4)]})
    return [line for line in db.index_md().splitlines() if line.startswith("  - neuron")]


def test_zero_changes_are_not_listed_as_costs():
    lines = _neuron_lines([_row(0, [0.0, -0.1, 0.0, 0.05]), _row(1, [0.0, 0.0, 0.0, 0.0])])
    assert lines == [
        "  - neuron 0: zeroing costs 1 -10.0 (overall -1.0 pts); active 50%; top class 0 (sel 0.90); poly 0.10; "
        "in/out norm 1.00/1.00",
        "  - neuron 1: zeroing costs none (overall -1.0 pts); active 50%; top class 0 (sel 0.90); poly 0.10; "
        "in/out norm 1.00/1.00",
    ]
