"""`spec` / `from_spec`: JSON descriptions of networks, rebuilt exactly; unsupported layers and non-default
activations refused naming the module and the supported list; malformed layer fields named."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from metanet.errors import ArchError, GraphError
from metanet.graph import to_graph
from metanet.nets import CNN, MLP, build, from_spec, spec


def _rebuild(model: nn.Module) -> nn.Module:
    """Through JSON text and back, then the weights by state dict."""
    d = json.loads(json.dumps(spec(model)))
    clone = from_spec(d)
    clone.load_state_dict(model.state_dict())
    return clone


@pytest.mark.parametrize(
    "arch, input_shape",
    [("mlp:784-64-10:relu", (1, 28, 28)), ("mlp:64-32-32-10:tanh:skip:nobias", (64,)), ("cnn:1-16-16-10:gelu:k3:s2", (1, 12, 12))],
)
def test_family_round_trip(arch, input_shape):
    model = build(arch, seed=11)  # from_spec initialises from seed 0: only loaded weights can match
    assert spec(model) == model.arch.to_dict()
    clone = _rebuild(model)
    assert type(clone) is type(model) and clone.arch == model.arch
    x = torch.rand(3, *input_shape)
    assert torch.equal(clone(x), model(x))


def _every_layer() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 5), stride=(1, 2), padding=(1, 2), bias=False),
        nn.Tanh(),
        nn.AvgPool2d(2, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
        nn.GELU(),
        nn.Conv2d(6, 6, 3, padding="same"),
        nn.Sigmoid(),
        nn.MaxPool2d(3, stride=1, padding=1, dilation=1, ceil_mode=True),
        nn.AvgPool2d(2, divisor_override=3),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 5),
        nn.LeakyReLU(),
        nn.Linear(5, 4, bias=False),
        nn.SiLU(),
        nn.Identity(),
        nn.Linear(4, 3),
    )


def test_sequential_of_every_supported_layer_round_trips():
    model = _every_layer()
    d = spec(model)
    assert d["family"] == "sequential"
    assert [ld["type"] for ld in d["layers"]] == [
        "conv2d", "act", "maxpool2d", "conv2d", "act", "avgpool2d", "act", "conv2d", "act", "maxpool2d",
        "avgpool2d", "gap", "flatten", "linear", "act", "linear", "act", "act", "linear",
    ]
    assert [ld["name"] for ld in d["layers"] if ld["type"] == "act"] == [
        "relu", "tanh", "gelu", "sigmoid", "leaky_relu", "silu", "identity"
    ]
    clone = _rebuild(model)
    assert type(clone) is nn.Sequential
    assert [type(m) for m in clone] == [type(m) for m in model]
    assert spec(clone) == d
    sd, sc = model.state_dict(), clone.state_dict()
    assert sd.keys() == sc.keys() and all(torch.equal(sd[k], sc[k]) for k in sd)
    x = torch.rand(2, 1, 13, 11)
    assert torch.equal(clone(x), model(x))


def test_sequential_mlp_round_trip():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    clone = _rebuild(model)
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(clone(x), model(x))


def test_from_spec_is_deterministic_and_leaves_the_global_rng_alone():
    d = spec(_every_layer())
    torch.manual_seed(7)
    expected = torch.rand(4)
    torch.manual_seed(7)
    a, b = from_spec(d), from_spec(d)
    assert torch.equal(torch.rand(4), expected)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert isinstance(from_spec(spec(build("mlp:4-3"))), MLP) and isinstance(from_spec(spec(build("cnn:1-2-3"))), CNN)


@pytest.mark.parametrize(
    "layer, fragments",
    [
        (nn.BatchNorm1d(4), ["layer 1", "BatchNorm1d"]),
        (nn.MultiheadAttention(4, 2), ["layer 1", "MultiheadAttention"]),
        (nn.Conv2d(2, 2, 3, groups=2), ["layer 1", "Conv2d", "groups=2"]),
        (nn.LeakyReLU(0.2), ["layer 1", "LeakyReLU", "negative_slope=0.2"]),
        (nn.GELU(approximate="tanh"), ["layer 1", "GELU", "tanh"]),
        (nn.Conv2d(2, 2, 3, dilation=2), ["layer 1", "dilation=(2, 2)"]),
        (nn.Dropout1d(0.1), ["layer 1", "Dropout1d"]),
        (nn.Sequential(nn.ReLU()), ["layer 1", "Sequential"]),
        (nn.AdaptiveAvgPool2d(2), ["layer 1", "AdaptiveAvgPool2d"]),
        (nn.Flatten(0), ["layer 1", "Flatten"]),
    ],
)
def test_unsupported_layers_are_named(layer, fragments):
    with pytest.raises(ArchError) as info:
        spec(nn.Sequential(nn.Identity(), layer))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_unsupported_module_is_named():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ArchError, match="unsupported module Custom"):
        spec(Custom())
    with pytest.raises(ArchError, match="unsupported module LeakyReLU"):
        spec(nn.LeakyReLU())


@pytest.mark.parametrize(
    "d, fragment",
    [
        ([], "must be a dict with a 'family' key"),
        ({"widths": [4, 2]}, "must be a dict with a 'family' key"),
        ({"family": "rnn", "widths": [4, 2]}, "unknown architecture family 'rnn'"),
        ({"family": "sequential"}, "needs a 'layers' list"),
        ({"family": "sequential", "layers": [{"type": "lstm"}]}, "unknown type 'lstm'"),
        ({"family": "sequential", "layers": [{"type": "linear", "in": 3}]}, "layer 0 of the spec"),
        ({"family": "sequential", "layers": [{"type": "act", "name": "swish"}]}, "unknown activation 'swish'"),
        ({"family": "sequential", "layers": ["relu"]}, "layer 0 of the spec has unknown type None"),
    ],
)
def test_malformed_specs_raise_arch_error(d, fragment):
    with pytest.raises(ArchError) as info:
        from_spec(d)
    assert fragment in str(info.value)


def test_sequential_with_named_layers_keeps_its_parameter_names():
    # nn.Sequential(OrderedDict(...)) is the usual way to name layers; its state dict keys are 'fc1.weight', ...
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(8, 4)), ("act", nn.ReLU()), ("fc2", nn.Linear(4, 3))]))
    clone = _rebuild(model)  # load_state_dict(strict) needs the same names
    assert list(clone.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = torch.rand(2, 8)
    assert torch.equal(clone(x), model(x))
    assert spec(nn.Sequential(nn.Linear(8, 4))) == {
        "family": "sequential", "layers": [{"type": "linear", "in": 8, "out": 4, "bias": True}]
    }  # default names are not spelled out


def _named(*names):
    """A linear - relu - linear spec whose layers carry these module names (None: the default name)."""
    layers = [{"type": "linear", "in": 4, "out": 4, "bias": True}, {"type": "act", "name": "relu"},
              {"type": "linear", "in": 4, "out": 2, "bias": True}]
    for d, name in zip(layers, names):
        if name is not None:
            d["module"] = name
    return {"family": "sequential", "layers": layers}


@pytest.mark.parametrize(
    "d", [_named("a", "a"), _named("a.b"), _named(""), _named(3), _named("2")],
    ids=["duplicate", "dot", "empty", "not-a-string", "clashes-with-a-default-name"],
)
def test_malformed_layer_names_raise_arch_error(d):
    with pytest.raises(ArchError, match="module name"):
        from_spec(d)


def test_dropout_is_kept_and_rebuilt():
    """The everyday MLP (Linear, ReLU, Dropout, Linear) was refused: it could not be saved, read, inspected or
    edited. Dropout is now a spec layer of its own (rebuilt with its p) and an identity at inference."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.3), nn.Linear(5, 2))
    d = spec(net)
    assert d["layers"][3] == {"type": "dropout", "p": 0.3}
    back = from_spec(d)
    assert isinstance(back[3], nn.Dropout) and back[3].p == 0.3
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_pair_of_sizes_error_names_a_list_not_a_number():
    from metanet.nets import from_spec

    conv = {"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "bias": True}
    spec = {"family": "sequential", "layers": [conv, {"type": "maxpool2d", "kernel": [0, 0], "stride": [1, 1],
                                                       "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False}]}
    with pytest.raises(ArchError, match=r"'kernel' must be a list of two whole numbers >= 1, got \[0, 0\]"):
        from_spec(spec)


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.2), nn.GELU(approximate="tanh")], ids=["leaky0.2", "gelu-tanh"])
def test_non_default_activation_is_refused_with_the_supported_list(act):
    net = nn.Sequential(nn.Linear(3, 2), act)
    for fn, err in ((spec, ArchError), (to_graph, GraphError)):
        with pytest.raises(err) as e:
            fn(net)
        msg = str(e.value)
        assert type(act).__name__ in msg and "default configuration" in msg
        assert "supported layers: Linear, Conv2d" in msg and "LeakyReLU" in msg and "SiLU" in msg
