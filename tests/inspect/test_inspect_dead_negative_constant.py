"""A dead neuron with a constant NEGATIVE output (a tanh or linear unit stuck below 0) is a nonzero constant the next
layer reads: INDEX.md must say to clamp it, not "constant output 0: safe to remove", and quote its size."""

from __future__ import annotations

from metanet.inspect.db import NeuronDB


def _row(j: int, act_mean: float) -> dict:
    return dict(layer=1, idx=j, dead=1, act_mean=act_mean, out_norm=1.0, ablation_acc=-0.05, description="",
                role=None, supports=[], support_strength=0.0, ablation_per_class=[0.0] * 3, selectivity=0.0,
                top_class=None)


def _dead_line(rows: list[dict]) -> str:
    db = NeuronDB(rows, {"class_names": ["0", "1", "2"]})
    (group,) = db.groups(1)
    assert group["kind"] == "dead"
    return db.group_line(1, group)


def test_a_constant_negative_output_is_not_called_zero():
    line = _dead_line([_row(0, -0.76)])
    assert "safe to remove" not in line and "constant output 0" not in line
    assert "a nonzero constant (up to 0.76)" in line and "clamp it" in line and "5.0 points" in line


def test_a_negative_constant_beside_a_zero_one_is_told_apart():
    line = _dead_line([_row(0, 0.0), _row(1, -0.3)])
    assert "neuron 0 outputs 0" in line and "neuron 1 outputs a nonzero constant (up to 0.3)" in line
