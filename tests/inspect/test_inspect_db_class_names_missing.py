"""A database that records fewer class names than classes (or none: written before they were recorded) names the
classes it has no name for by number in INDEX.md, rather than failing on them."""

from __future__ import annotations

from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import inspect


def test_classes_without_a_recorded_name_are_numbered():
    db = inspect(planted_mlp(), planted_task(), reader=None)
    pcs = db.meta["per_class"]
    db.meta["class_names"] = ["zero"]  # one name for four classes
    line = next(l for l in db.index_md().splitlines() if l.startswith("Per-class accuracy: "))
    assert line == "Per-class accuracy: " + ", ".join(
        [f"0 (zero) {pcs[0]:.3f}"] + [f"{c} {a:.3f}" for c, a in enumerate(pcs) if c > 0])
    del db.meta["class_names"]  # none at all
    assert db.class_names == []
    line = next(l for l in db.index_md().splitlines() if l.startswith("Per-class accuracy: "))
    assert line == "Per-class accuracy: " + ", ".join(f"{c} {a:.3f}" for c, a in enumerate(pcs))
