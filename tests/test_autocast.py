"""A caller's ``torch.autocast("cpu")`` (a mixed-precision evaluation loop) does not reach metanet's float32
computations: ``generate`` under bfloat16 autocast was a raw TypeError, under float16 it wrote other weights, and
``read`` raised a NotImplementedError from its sparse message passing."""

from __future__ import annotations

import pytest
import torch

import metanet


@pytest.fixture(scope="module")
def plain():
    return metanet.generate("digits", candidates=2, seed=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_generate_and_verify_under_a_callers_autocast_are_the_float32_ones(plain, dtype):
    with torch.autocast("cpu", dtype=dtype):
        g = metanet.generate("digits", candidates=2, seed=0)
        report = metanet.verify(g.model, "digits")
        assert torch.is_autocast_enabled("cpu")  # the caller's autocast is still on after each call
    for a, b in zip(g.model.state_dict().values(), plain.model.state_dict().values()):
        assert torch.equal(a, b)
    assert g.report.test.accuracy == plain.report.test.accuracy == report.accuracy
