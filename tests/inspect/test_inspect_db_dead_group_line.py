"""`NeuronDB.group_line` of a dead group (constant outputs): which neurons output 0 or are unread, and which output a
nonzero constant, is found by identity in sets, not by `row in list` (pairwise row comparisons: quadratic in the
group's size, 50 s for a layer of 16,000 dead neurons). The text is unchanged."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


class _CountingRow(dict):
    """A row that counts the comparisons made with it (``row in list`` compares rows with ``==``)."""

    compared = 0

    def __eq__(self, other):
        _CountingRow.compared += 1
        return dict.__eq__(self, other)

    __hash__ = None


def _row(j: int, act_mean: float, out_norm: float, ablation_acc: float) -> _CountingRow:
    return _CountingRow(layer=1, idx=j, dead=1, act_mean=act_mean, out_norm=out_norm, ablation_acc=ablation_acc,
                        description="", role=None, supports=[], support_strength=0.0,
                        ablation_per_class=[0.0] * 10, selectivity=0.0, top_class=None)


def _dead_line(rows: list[dict]) -> str:
    db = NeuronDB(rows, {"class_names": [str(c) for c in range(10)]})
    (group,) = db.groups(1)
    assert group["kind"] == "dead"
    return db.group_line(1, group)


def test_dead_group_line_says_which_neurons_output_zero_and_which_a_constant():
    rows = [_row(0, 0.0, 1.0, 0.0), _row(1, 0.5, 0.0, 0.0), _row(2, 0.5, 1.0, -0.01), _row(3, 0.7, 1.0, -0.02)]
    assert _dead_line(rows) == (
        "- **layer 1, neurons 0, 1, 2, 3**: dead on the task data (constant output); neurons 0, 1 output 0 or are "
        "read by no layer (safe to remove); neurons 2, 3 output a nonzero constant (up to 0.7), which the next layer "
        "reads like a bias: clamp them to that value rather than remove (zeroing costs up to 2.0 points)")


def test_dead_group_line_compares_no_rows_pairwise():
    n = 400  # a quarter output 0, a quarter are unread constants, half are constants the next layer reads
    rows = [_row(j, 0.0 if j % 4 == 0 else 0.5, 0.0 if j % 4 == 1 else 1.0, -0.01) for j in range(n)]
    _CountingRow.compared = 0
    line = _dead_line(rows)
    # was n/2 * n/4 + n * n/2 comparisons (100,000 here)
    assert _CountingRow.compared <= n, _CountingRow.compared
    zero = ", ".join(str(j) for j in range(n) if j % 4 in (0, 1))
    assert f"neurons {zero} output 0 or are read by no layer (safe to remove)" in line
