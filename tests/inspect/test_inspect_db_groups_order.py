"""`NeuronDB.groups(layer)`: support groups first (strongest first, members strongest first, ``classes`` led by
the group's own class, never repeated), then selective (selectivity >= 0.5), then unselective, then dead."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _row(idx: int, apc: list, supports: list, sel: float = 0.0, top: int = 0, dead: int = 0) -> dict:
    return dict(layer=1, idx=idx, dead=dead, supports=supports, ablation_per_class=apc, selectivity=sel,
                top_class=top, support_strength=max(0.0, -min(apc)))


def test_groups_are_ordered_by_kind_and_strength():
    db = NeuronDB([
        _row(0, [0.0, 0.0, 0.0], [], sel=0.2, top=1),           # unselective
        _row(1, [0.0, 0.0, 0.0], [], sel=0.5, top=2),           # selective exactly at the bar
        _row(2, [-0.1, 0.0, 0.0], [0]),                          # supports 0, weaker
        _row(3, [-0.4, -0.3, 0.0], [0, 1]),                      # supports 0 most, and 1
        _row(4, [0.0, 0.0, -0.2], [2]),                          # supports 2
        _row(5, [0.0, 0.0, 0.0], [], dead=1),                    # dead
    ], {})
    groups = db.groups(1)
    assert [(g["kind"], g["classes"], g["neurons"]) for g in groups] == [
        ("support", [0, 1], [2, 3]), ("support", [2], [4]), ("selective", [2], [1]), ("unselective", [], [0]),
        ("dead", [], [5])]
    assert [r["idx"] for r in groups[0]["rows"]] == [3, 2]  # strongest member first
