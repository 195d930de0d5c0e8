"""The ``INDEX.md`` line of a group that supports a class names up to four other classes its neurons support too
("; also ..."), and ends with ", ..." only when there are more than four: with exactly four, every one is named."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _line(supports: list[int]) -> str:
    apc = [0.0] * 10
    for c in supports:
        apc[c] = -0.1
    apc[0] = -0.5  # the group's class: the largest drop
    row = dict(layer=1, idx=0, dead=0, supports=supports, ablation_per_class=apc, support_strength=0.5,
               selectivity=0.0, top_class=0, description="", role=None)
    db = NeuronDB([row], {"class_names": [str(c) for c in range(10)]})
    (group,) = db.groups(1)
    return db.group_line(1, group)


def test_exactly_four_other_classes_are_all_named_without_an_ellipsis():
    assert _line([0, 1, 2, 3, 4]) == (
        "- **layer 1, neuron 0**: support 0 — zeroing it costs class 0 up to 50.0 points; also 1, 2, 3, 4")


def test_a_fifth_other_class_is_left_to_the_ellipsis():
    assert _line([0, 1, 2, 3, 4, 5]).endswith("; also 1, 2, 3, 4, ...")
