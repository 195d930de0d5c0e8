"""metanet.edit.quantize / precision: the formats a float-overflow error offers hold the weights. Weights that also
hold NaN or inf were still told the integer formats were valid, and those formats refuse NaN and inf (a GraphError
on the next try)."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import planted_mlp, planted_task

from metanet import edit
from metanet.errors import ArchError, GraphError


def test_fp16_overflow_beside_an_inf_offers_only_float_formats_and_they_work():
    w = torch.tensor([[1e5, float("inf")], [0.5, -2.0]])
    with pytest.raises(ArchError, match=r"to fp16: 1 finite value \(the largest 100000 in size\) would become inf "
                                        r"\(fp16 holds sizes up to 65504\); valid formats for them: fp32, bf16$"):
        edit.quantize(w, "fp16")
    for fmt in ("fp32", "bf16"):  # each one offered holds them
        assert bool(edit.quantize(w, fmt)[0, 0].isfinite())
    with pytest.raises(GraphError, match="NaN or infinite"):  # the one no longer offered
        edit.quantize(w, "int8")


def test_no_format_holds_them_says_so():
    w = torch.tensor([1e300, float("nan")], dtype=torch.float64)
    with pytest.raises(ArchError, match=r"to fp32: .* valid formats for them: none \(their NaN or infinite values "
                                        r"rule out the integer formats\)$"):
        edit.quantize(w, "fp32")


def test_precision_on_a_network_with_an_inf_weight_offers_the_float_formats():
    m = planted_mlp()
    with torch.no_grad():
        m.layers[1].weight[0, 0] = 1e5
        m.layers[1].weight[0, 1] = float("inf")
    with pytest.raises(ArchError, match=r"valid formats for them: fp32, bf16$"):
        edit.precision(m, "1=fp16", planted_task())
