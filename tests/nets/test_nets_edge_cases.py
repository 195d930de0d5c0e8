"""Edge cases of the architecture families: replaced activations, strict spec layers, seeds, unordered widths."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from metanet.errors import ArchError, ConfigError, MetanetError
from metanet.nets import Arch, build, from_spec, spec


@pytest.mark.parametrize("arch", ["mlp:4-8-3:relu", "cnn:1-4-3:tanh:k3:s1"])
def test_a_replaced_activation_is_not_described_as_the_architectures(arch):
    # spec() gave the arch's activation, so save/load and to_graph silently swapped Tanh back to ReLU
    model = build(arch)
    model.act = nn.Sigmoid()
    with pytest.raises(ArchError, match=r"activation Sigmoid\(\) is not its architecture's"):
        spec(model)
    model.act = nn.LeakyReLU(0.3)  # same class as no activation of the arch, and not the default slope either
    with pytest.raises(ArchError, match="activation"):
        spec(model)
    model.act = type(build(arch).act)()  # an equal fresh activation is fine
    assert spec(model) == Arch.coerce(arch).to_dict()


def _seq(layer: dict) -> dict:
    return {"family": "sequential", "layers": [layer]}


MAXPOOL = {"type": "maxpool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "dilation": [1, 1],
           "ceil_mode": False}
AVGPOOL = {"type": "avgpool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False,
           "count_include_pad": True, "divisor_override": None}
CONV = {"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "bias": True}


@pytest.mark.parametrize("layer, key", [
    ({**MAXPOOL, "ceil_mode": "no"}, "ceil_mode"),       # a truthy string: silently ceil_mode=True
    ({**MAXPOOL, "kernel": [0, 0]}, "kernel"),           # built fine, failed at forward
    ({**MAXPOOL, "padding": [5, 5]}, "padding"),         # more than half the kernel: failed at forward
    ({**MAXPOOL, "dilation": [0, 1]}, "dilation"),
    ({**AVGPOOL, "divisor_override": 0}, "divisor_override"),
    ({**AVGPOOL, "count_include_pad": 1}, "count_include_pad"),
    ({**AVGPOOL, "stride": [True, 1]}, "stride"),
    ({"type": "dropout", "p": True}, "p"),               # Dropout(p=True) was built
    ({"type": "dropout", "p": 1.5}, "p"),
    ({"type": "linear", "in": 4, "out": 2, "bias": "yes"}, "bias"),
    ({"type": "linear", "in": 4.0, "out": 2, "bias": True}, "in"),
    ({**CONV, "stride": [0, 1]}, "stride"),               # Conv2d(stride=0) was built
    ({**CONV, "padding": [-1, 1]}, "padding"),
    ({**CONV, "kernel": 3}, "kernel"),
])
def test_from_spec_refuses_layers_that_torch_builds_but_cannot_run(layer, key):
    with pytest.raises(ArchError, match=f"layer 0 of the spec .* is malformed: '{key}' must be"):
        from_spec(_seq(layer))


@pytest.mark.parametrize("layer", [MAXPOOL, AVGPOOL, CONV, {**CONV, "padding": "same"},
                                   {**MAXPOOL, "kernel": [3, 3], "padding": [2, 2], "dilation": [2, 2]},
                                   {"type": "dropout", "p": 0}, {"type": "linear", "in": 4, "out": 2, "bias": False}])
def test_from_spec_still_builds_what_spec_writes(layer):
    model = from_spec(_seq(layer))
    assert spec(model) == json.loads(json.dumps(_seq(layer)))


def test_every_supported_layer_round_trips_through_spec():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                          nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False, divisor_override=2),
                          nn.Conv2d(2, 3, (3, 1), stride=(2, 1), padding=(1, 0), bias=False), nn.GELU(),
                          nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.25), nn.Linear(3, 2), nn.SiLU())
    d = spec(model)
    rebuilt = from_spec(json.loads(json.dumps(d)))
    assert spec(rebuilt) == d
    rebuilt.load_state_dict(model.state_dict())
    x = torch.rand(2, 1, 9, 9)
    assert torch.equal(rebuilt.eval()(x), model.eval()(x))


@pytest.mark.parametrize("seed", [1.5, True, "x", 2**70, -(2**64), None.__class__])
def test_build_refuses_a_seed_torch_would_truncate_or_choke_on(seed):
    # 1.5 was silently seed 1, True seed 1, 2**70 a raw ValueError from torch
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        build("mlp:4-2", seed=seed)


@pytest.mark.parametrize("seed, same", [(3.0, 3), ("3", 3), (torch.tensor(3), 3), (2**64 - 1, 2**64 - 1), (-5, -5)])
def test_build_takes_every_spelling_of_a_whole_seed(seed, same):
    a, b = build("mlp:4-3-2", seed=seed), build("mlp:4-3-2", seed=same)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("widths", [{10, 64, 784}, {784: 1, 64: 2, 10: 3}, frozenset({3, 4})])
def test_widths_without_an_order_are_refused(widths):
    # a set iterated as (64, 784, 10): a different network with no error
    with pytest.raises(ArchError, match="widths must be a sequence"):
        Arch("mlp", widths)
    with pytest.raises(ArchError, match="widths must be a sequence"):
        Arch.coerce({"family": "mlp", "widths": widths})


@pytest.mark.parametrize("text", ["mlp:784-64-10:relu", "mlp:784-64-64-10:tanh:skip:nobias", "cnn:1-8-8-10:gelu:k5:s1",
                                  "cnn:3-4-2:identity:k1:s3:nobias", "mlp:1-1:silu"])
def test_string_dict_and_object_forms_agree(text):
    a = Arch.coerce(text)
    assert str(a) == text
    assert Arch.coerce(str(a)) == a == Arch.coerce(a.to_dict()) == Arch.coerce(json.loads(json.dumps(a.to_dict())))
    assert hash(Arch.coerce(text.upper().replace(":", " : "))) == hash(a)
    assert len({a, Arch.coerce(a.to_dict())}) == 1


def test_all_errors_are_metanet_errors():
    for bad in [lambda: build("mlp:4-2", seed=object()), lambda: Arch("mlp", {1, 2}),
                lambda: from_spec(_seq({**MAXPOOL, "ceil_mode": None}))]:
        with pytest.raises(MetanetError):
            bad()
