"""Round 28: inspect's figures of a float64 network are computed in float64."""

import torch

import metanet
from metanet.inspect.analyze import weight_norms
from metanet.inspect.netview import NetView
from metanet.nets import MLP, Arch


def test_outgoing_norms_of_a_float64_network_are_exact():
    torch.manual_seed(0)
    m = MLP(Arch.parse("mlp:64-16-16-10:relu")).double()
    _, out, _ = weight_norms(NetView(m), 1)
    assert out.dtype == torch.float64
    assert torch.equal(out, m.layers[1].weight.detach().pow(2).sum(0).sqrt())
    db = metanet.inspect(m, "digits", reader=None, max_examples=50)
    row = next(r for r in db if r["layer"] == 2 and r["idx"] == 7)
    assert row["out_norm"] == float(m.layers[2].weight.detach()[:, 7].pow(2).sum().sqrt())


def test_outgoing_norms_of_a_half_network_are_float32_sums():
    torch.manual_seed(0)
    m = MLP(Arch.parse("mlp:64-16-10:relu")).half()
    _, out, _ = weight_norms(NetView(m), 1)
    assert out.dtype == torch.float32
    assert torch.allclose(out, m.layers[1].weight.detach().float().pow(2).sum(0).sqrt(), rtol=1e-3)
