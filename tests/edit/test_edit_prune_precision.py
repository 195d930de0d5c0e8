"""metanet.edit: pruning connections and per-region precision, including integer quantisation of awkward rows
(tiny float16 or subnormal float32 weights) and weight bytes counted from the exact bits (an odd number of int4
weights rounds up per region)."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import digits_mlp

from metanet import edit, tasks
from metanet.errors import ArchError
from metanet.nets import build


def _same(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("method", ["magnitude", "necessity"])
def test_pruning_to_zero_sparsity_changes_nothing(method):
    model = digits_mlp()
    edited, rep = edit.prune(model, 0.0, "digits", method=method)
    assert _same(model, edited)
    assert rep.after.per_class == rep.before.per_class and rep.after.loss == rep.before.loss
    assert rep.details["sparsity"] == 0.0


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_magnitude_pruning_reaches_the_target(scope):
    model = digits_mlp()
    edited, rep = edit.prune(model, 0.7, "digits", scope=scope)
    assert edit.sparsity(edited) == pytest.approx(0.7, abs=1e-3)
    if scope == "layer":
        assert all(s == pytest.approx(0.7, abs=2e-3) for s in rep.details["per_region"].values())
    kept = [w[w != 0].abs().min() for w in (edited.layers[0].weight, edited.layers[1].weight)]
    cut = [model.layers[i].weight[edited.layers[i].weight == 0].abs().max() for i in (0, 1)]
    if scope == "layer":
        assert all(c <= k for c, k in zip(cut, kept))  # the smallest went first, per layer
    assert rep.after.accuracy > 0.5


def test_necessity_pruning_removes_free_connections_first():
    model = digits_mlp()
    edited, rep = edit.prune(model, 0.5, "digits", method="necessity")
    assert edit.sparsity(edited) == pytest.approx(0.5, abs=1e-3)
    d = rep.details
    assert d["accepted_free"] > 0 and d["accepted_free"] + d["forced"] >= round(0.5 * (64 * 32 + 32 * 10)) - 1
    # what was removed for free costs nothing on the calibration split
    if d["forced"] == 0:
        assert d["calibration_accuracy"][1] >= d["calibration_accuracy"][0]
    # pruning only a chosen region leaves the others alone
    e2, r2 = edit.prune(model, 0.5, "digits", regions=[1])
    assert torch.equal(e2.layers[0].weight, model.layers[0].weight)
    assert r2.details["per_region"] == {"1": pytest.approx(0.5)}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sparsity": 1.0}, r"sparsity 1.0 is not valid: a fraction .* in \[0, 1\)"),
        ({"sparsity": -0.1}, "not valid"),
        ({"sparsity": 0.5, "method": "random"}, "unknown pruning method 'random'; valid: magnitude, necessity"),
        ({"sparsity": 0.5, "regions": [5]}, "region 5 does not exist: .* has weight layers 0..1"),
    ],
)
def test_prune_errors(kwargs, message):
    with pytest.raises(ArchError, match=message):
        edit.prune(digits_mlp(), task="digits", **kwargs)


def test_precision_per_region_with_costs():
    model = digits_mlp()
    same, rep = edit.precision(model, "0=fp32,1=fp32", "digits")
    assert _same(model, same) and rep.details["compression"] == 1.0
    edited, rep = edit.precision(model, "0=int4,1=fp16", "digits")
    w0, q0 = model.layers[0].weight, edited.layers[0].weight
    assert all(len(torch.unique(r)) <= 15 for r in q0)  # 4-bit: at most 15 levels per row
    assert torch.equal(edited.layers[0].bias, model.layers[0].bias)  # integer formats keep fp32 biases
    assert torch.equal(edited.layers[1].weight, model.layers[1].weight.half().float())
    assert (q0 - w0).abs().max() <= w0.abs().max() / 7 / 2 + 1e-6
    regions = rep.details["regions"]
    assert set(regions) == {"0", "1"} and regions["0"]["format"] == "int4"
    assert regions["0"]["cost_alone"] == pytest.approx(rep.before.accuracy - regions["0"]["accuracy_alone"])
    assert rep.details["weight_bytes"] == (64 * 32 * 4 + 32 * 10 * 16) // 8
    assert abs(rep.accuracy_change) < 0.05


def test_int8_everywhere_and_the_star_region():
    model = build("cnn:1-4-6-10:relu:k3:s2", seed=0)
    edited, rep = edit.precision(model, "*=int8", tasks.get("digits"))
    assert set(rep.details["regions"]) == {"0", "1", "2"}
    assert rep.details["compression"] == pytest.approx(4.0)
    assert not torch.equal(edited.layers[0].weight, model.layers[0].weight)


@pytest.mark.parametrize(
    "plan, message",
    [
        ("0=int8,3=fp16", "region '3' does not exist: .* has weight layers 0..1"),
        ("0=int3", "unknown precision 'int3' for region 0; valid: fp32, fp16, bf16, int8, int4, int2"),
        ("0:int8", "malformed precision '0:int8'"),
    ],
)
def test_precision_errors(plan, message):
    with pytest.raises(ArchError, match=message):
        edit.precision(digits_mlp(), plan, "digits")


def test_necessity_pruning_of_a_float64_network():
    model = build("mlp:64-8-10:relu", seed=0).double()
    edited, rep = edit.prune(model, 0.3, "digits", method="necessity")
    assert edited.layers[0].weight.dtype == torch.float64
    assert rep.details["sparsity"] == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("plan", ["1-0=int8", "1-0=int8,0=fp16"])
def test_precision_backwards_range_is_an_error_not_skipped(plan):
    with pytest.raises(ArchError, match="range '1-0' runs backwards; write it as 0-1"):
        edit.precision(digits_mlp(), plan, "digits")


@pytest.mark.parametrize("tolerance", [-0.01, float("nan"), float("inf"), "x"])
def test_necessity_tolerance_must_be_a_fraction(tolerance):
    with pytest.raises(ArchError, match="tolerance .* is not valid: an accuracy drop in \\[0, 1\\]"):
        edit.prune(digits_mlp(), 0.5, "digits", method="necessity", tolerance=tolerance)


@pytest.mark.parametrize("fmt", ["int8", "int4", "int2"])
def test_integer_quantisation_keeps_rows_of_tiny_weights(fmt):
    # a float16 row of weights ~1e-6: its scale (1e-6 / 127) underflowed in float16, and the row became zeros;
    # a float32 row of subnormal weights was zeroed by a clamp of the scale at 1e-30
    for dtype, size in ((torch.float16, 1e-6), (torch.float32, 1e-40)):
        w = torch.tensor([[size, -size, 0.0], [0.0, 0.0, 0.0], [1.0, -0.5, 0.25]], dtype=dtype)
        q = edit.quantize(w, fmt)
        assert q.dtype == dtype and bool(torch.isfinite(q).all())
        # the row's largest values are kept at any bit width (to the rounding of a subnormal scale)
        assert torch.allclose(q[0], w[0], rtol=1e-3, atol=0) and bool((q[0, :2] != 0).all()), (dtype, q[0])
        assert torch.equal(q[1], torch.zeros(3, dtype=dtype))  # an all-zero row stays zeros (no 0/0 NaN)


def test_int8_on_a_float32_row_is_unchanged_by_the_float16_fix():
    w = torch.randn(4, 9, generator=torch.Generator().manual_seed(0))
    sc = w.abs().amax(1, keepdim=True) / 127
    assert torch.equal(edit.quantize(w, "int8"), (w / sc).round().clamp(-127, 127) * sc)


def _odd_task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 7, generator=g)
    y = (x[:, 0, 0] > 0.5).long()
    return tasks.from_examples(x, y, name="odd7")


def test_int4_weight_bytes_round_up_per_region():
    task = _odd_task()
    model = build("mlp:7-3-2:relu", seed=0)  # 21 weights (84 bits = 10.5 bytes) and 6 weights
    _, rep = edit.precision(model, "0=int4,1=int4", task)
    d = rep.details
    assert d["weight_bytes"] == 11 + 3  # was (84 + 24) // 8 = 13: half a byte short
    assert d["weight_bytes_before"] == 4 * 27 and d["weight_bytes_fp32"] == 4 * 27
    assert d["compression"] == d["weight_bytes_before"] / d["weight_bytes"]
    # int2 on the 21 weights: 42 bits = 5.25 bytes -> 6; the other region stays float32
    _, rep = edit.precision(model, "0=int2", task)
    assert rep.details["weight_bytes"] == 6 + 4 * 6
