"""`NeuronDB.supporting(cls)` lists the neurons that support a class strongest first: the neuron whose zeroing costs
the class most comes first (a caller takes ``supporting(c)[0]`` as the class's most needed neuron)."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _row(idx: int, drop: float) -> dict:
    apc = [0.0, 0.0, 0.0]
    apc[2] = drop
    return dict(layer=1, idx=idx, supports=[2], ablation_per_class=apc, support_strength=-drop)


def test_supporting_lists_the_strongest_first():
    # by index 0, 1, 2; by drop of class 2: 1 (-50 pts), 2 (-30), 0 (-10); weakest first would be 0, 2, 1
    db = NeuronDB([_row(0, -0.1), _row(1, -0.5), _row(2, -0.3), dict(_row(3, 0.0), supports=[])],
                  {"class_names": ["a", "b", "c"]})
    assert db.supporting(2) == [(1, 1), (1, 2), (1, 0)]
    assert db.supporting(0) == []  # no neuron supports class 0
