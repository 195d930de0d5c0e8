"""`from_spec`: dropout probabilities 0 and 1 are valid (just past them is not), and a sequential spec is built
from seed 0, as its docstring says (the same weights as the layers built after ``torch.manual_seed(0)``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.errors import ArchError
from metanet.nets import build
from metanet.nets.spec import from_spec, spec


@pytest.mark.parametrize("p", [0, 0.0, 1, 1.0])
def test_dropout_of_probability_zero_or_one_round_trips(p):
    net = from_spec({"family": "sequential", "layers": [{"type": "dropout", "p": p}]})
    assert type(net[0]) is nn.Dropout and net[0].p == p
    assert spec(nn.Sequential(nn.Dropout(p)))["layers"] == [{"type": "dropout", "p": float(p)}]


@pytest.mark.parametrize("p", [-1e-9, 1.000001, 2])
def test_dropout_outside_zero_to_one_is_refused(p):
    with pytest.raises(ArchError, match=r"layer 0 of the spec .* 'p' must be a probability in \[0, 1\]"):
        from_spec({"family": "sequential", "layers": [{"type": "dropout", "p": p}]})


def test_a_sequential_spec_is_built_from_seed_zero():
    layers = [{"type": "linear", "in": 4, "out": 3, "bias": True}, {"type": "act", "name": "relu"},
              {"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1],
               "bias": False}]
    torch.manual_seed(123)
    before = torch.get_rng_state()
    net = from_spec({"family": "sequential", "layers": layers})
    assert torch.equal(torch.get_rng_state(), before)  # the caller's RNG is left alone
    with torch.random.fork_rng():
        torch.manual_seed(0)
        want = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Conv2d(1, 2, 3, padding=1, bias=False))
    got, ref = net.state_dict(), want.state_dict()
    assert got.keys() == ref.keys() and all(torch.equal(got[k], ref[k]) for k in ref)


def test_a_family_spec_is_built_from_seed_zero():
    net = from_spec({"family": "mlp", "widths": [4, 3, 2]})
    ref = build("mlp:4-3-2:relu", seed=0).state_dict()
    assert all(torch.equal(net.state_dict()[k], ref[k]) for k in ref)
