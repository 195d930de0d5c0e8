"""metanet.edit.precision / quantize: a float format too narrow for a finite weight (fp16 holds sizes up to 65504)
is refused with the formats that hold it, instead of writing inf into the network (every output then NaN or inf,
reported only as an accuracy of 0)."""

from __future__ import annotations

import copy

import pytest
import torch
from inspect_helpers import planted_mlp, planted_task

from metanet import edit
from metanet.errors import ArchError


def _big(where: str) -> torch.nn.Module:
    """The planted network with one finite weight (or bias) of region 1 beyond fp16's range, same decisions."""
    m = planted_mlp()
    with torch.no_grad():
        if where == "weight":
            m.layers[1].weight.mul_(1e4)  # 10 -> 1e5
            m.layers[1].bias.mul_(1e4)
        else:
            m.layers[1].bias[0] = 7e4
    return m


@pytest.mark.parametrize("where", ["weight", "bias"])
def test_fp16_refuses_finite_values_it_would_turn_into_inf(where):
    m = _big(where)
    before = copy.deepcopy(m.state_dict())
    name = rf"{'weights' if where == 'weight' else 'bias'} of region 1 \(layers\.1\.{where}\)"
    with pytest.raises(ArchError, match=rf"cannot round the {name} to fp16: \d+ finite values? \(the largest "
                                        r"[0-9.e+]+ in size\) would become inf \(fp16 holds sizes up to 65504\); "
                                        r"valid formats for them: fp32, bf16, int8, int4, int2$"):
        edit.precision(m, "1=fp16", planted_task(), inplace=True)
    assert all(torch.equal(before[k], t) for k, t in m.state_dict().items())  # nothing changed


def test_fp16_below_its_range_and_bf16_or_int8_of_the_same_weights_still_work():
    m = _big("weight")
    for fmt in ("bf16", "int8"):
        res = edit.precision(m, f"1={fmt}", planted_task())
        assert bool(torch.isfinite(res.model.layers[1].weight).all())
        assert res.report.after.accuracy == res.report.before.accuracy == 1.0
    w = torch.tensor([[65504.0, -65519.0, 1.0]])  # rounds to 65504: the largest fp16, finite
    assert torch.equal(edit.quantize(w, "fp16"), torch.tensor([[65504.0, -65504.0, 1.0]]))


def test_fp32_of_a_float64_weight_beyond_float32_names_the_integer_formats():
    w = torch.tensor([[1e39, 1.0], [2.0, 3.0]], dtype=torch.float64)
    with pytest.raises(ArchError, match=r"to fp32: 1 finite value \(the largest 1e\+39 in size\) would become inf "
                                        r"\(fp32 holds sizes up to 3\.40282e\+38\); valid formats for them: "
                                        r"int8, int4, int2$"):
        edit.quantize(w, "fp32")


def test_an_inf_already_there_is_kept_not_refused():
    w = torch.tensor([[float("inf"), 0.5], [float("nan"), 0.25]])
    q = edit.quantize(w, "fp16")
    assert q[0, 0] == float("inf") and q[1, 0].isnan() and q[0, 1] == 0.5
