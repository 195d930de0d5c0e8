"""Hostile numbers through the pipeline: finite weights far from 1 (1e29, 1e-30) and one NaN / inf weight give a
correct finite result or a clear MetanetError, never weights silently turned NaN."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet import edit
from metanet.errors import GraphError

ARCH = "mlp:64-16-10"


def _net(scale: float = 1.0) -> torch.nn.Module:
    net = metanet.nets.build(ARCH, seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


@pytest.mark.parametrize("fmt", ["int8", "int4", "int2"])
@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_integer_quantisation_refuses_non_finite_weights(fmt, bad) -> None:
    # one inf made its whole row NaN (scale inf, 0 * inf), one NaN zeroed the rest of its row (scale NaN -> 1)
    w = torch.tensor([[0.1, -0.2, bad, 0.3], [0.5, 0.25, -0.5, 0.0]])
    with pytest.raises(GraphError, match=rf"cannot quantise the weights to {fmt}: they hold 1 NaN or infinite value,"):
        edit.quantize(w, fmt)


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
def test_float_formats_keep_a_non_finite_weight_and_the_rest_of_its_row(fmt) -> None:
    w = torch.tensor([[0.5, -0.25, float("inf")], [0.5, float("nan"), 0.125]])
    q = edit.quantize(w, fmt)
    assert torch.equal(q[torch.isfinite(w)], w[torch.isfinite(w)])  # exact in every float format
    assert q[0, 2] == float("inf") and q[1, 1].isnan()


def test_integer_quantisation_of_huge_and_subnormal_rows_stays_finite() -> None:
    w = torch.tensor([[1e30, -2e30, 3e29], [1e-40, 2e-40, -3e-41]])
    q = edit.quantize(w, "int8")
    assert bool(torch.isfinite(q).all()) and torch.allclose(q, w, rtol=0.02, atol=0)


def test_precision_names_the_region_with_an_inf_weight_and_quantises_the_others() -> None:
    net = _net()
    with torch.no_grad():
        net.layers[0].weight[2, 3] = float("inf")
    with pytest.raises(GraphError, match=r"region 0 \(layers\.0\.weight\) to int8: they hold 1 NaN or infinite"):
        edit.precision(net, "*=int8", "digits")
    res = edit.precision(net, "1=int8", "digits")  # the finite region: quantised, no NaN made
    assert int(res.model.layers[0].weight.isinf().sum()) == 1
    assert not bool(res.model.layers[0].weight.isnan().any()) and bool(torch.isfinite(res.model.layers[1].weight).all())


@pytest.mark.parametrize("scale", [1e29, 1e-30])
def test_inspect_weight_norms_of_huge_and_tiny_weights_are_the_true_norms(scale) -> None:
    # float32 squares overflowed (in/out norm inf for finite 1e29 weights) or underflowed (0 for 1e-30 weights)
    net = _net(scale)
    rows = metanet.inspect(net, "digits").rows
    w0, w1 = (net.layers[i].weight.detach().double() for i in (0, 1))
    want_in, want_out = w0.norm(dim=1), w1.norm(dim=0)
    got_in = torch.tensor([r["in_norm"] for r in rows], dtype=torch.float64)
    got_out = torch.tensor([r["out_norm"] for r in rows], dtype=torch.float64)
    assert torch.allclose(got_in, want_in, rtol=1e-6, atol=0)
    assert torch.allclose(got_out, want_out, rtol=1e-6, atol=0)


def test_inspect_weight_norms_of_ordinary_weights_are_unchanged() -> None:
    net = _net()
    rows = metanet.inspect(net, "digits").rows
    w0 = net.layers[0].weight.detach()
    assert [r["in_norm"] for r in rows] == [float(v) for v in w0.norm(dim=1)]  # float32, bit for bit


def test_refine_sgd_of_huge_finite_weights_does_not_make_them_nan() -> None:
    # the logits overflow to inf, the loss is inf, backprop gave NaN gradients and Adam made all 1,210 weights NaN
    net = _net(1e30)
    res = metanet.refine(net, "digits", method="sgd", steps=2)
    for (name, p), q in zip(res.model.named_parameters(), net.parameters()):
        assert torch.equal(p, q), name  # every step skipped: nothing finite to learn from


@pytest.mark.parametrize("method", ["perturbation", "activity"])
def test_refine_gradient_free_of_huge_finite_weights_stays_finite(method) -> None:
    res = metanet.refine(_net(1e30), "digits", method=method, steps=2, population=2)
    assert all(bool(torch.isfinite(p).all()) for p in res.model.parameters())
