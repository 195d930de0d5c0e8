"""`Arch`: string <-> dataclass <-> dict <-> YAML round trips and the errors malformed input gives."""

from __future__ import annotations

import json

import pytest
import yaml

from metanet.errors import ArchError, MetanetError
from metanet.nets import Arch

# canonical strings: str(Arch.parse(s)) == s
CANONICAL = {
    "mlp:784-64-10:relu": dict(family="mlp", widths=(784, 64, 10), activation="relu", bias=True, skips=False),
    "mlp:784-64-64-10:tanh:skip": dict(family="mlp", widths=(784, 64, 64, 10), activation="tanh", skips=True),
    "mlp:64-32-10:gelu:nobias": dict(family="mlp", widths=(64, 32, 10), activation="gelu", bias=False),
    "mlp:64-32-32-10:silu:skip:nobias": dict(family="mlp", widths=(64, 32, 32, 10), skips=True, bias=False),
    "cnn:1-16-16-10:relu:k3:s2": dict(family="cnn", widths=(1, 16, 16, 10), kernel=3, stride=2, bias=True),
    "cnn:3-8-4:leaky_relu:k5:s1:nobias": dict(family="cnn", widths=(3, 8, 4), activation="leaky_relu",
                                             kernel=5, stride=1, bias=False),
}


@pytest.mark.parametrize("text", CANONICAL)
def test_parse_reads_every_field(text):
    a = Arch.parse(text)
    for key, value in CANONICAL[text].items():
        assert getattr(a, key) == value, key


@pytest.mark.parametrize("text", CANONICAL)
def test_string_round_trip(text):
    a = Arch.parse(text)
    assert str(a) == text
    assert Arch.parse(str(a)) == a


@pytest.mark.parametrize("text", CANONICAL)
def test_dict_round_trip_is_plain_data(text):
    a = Arch.parse(text)
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d  # plain JSON types only (no tuples)
    assert Arch.from_dict(d) == a
    assert Arch.coerce(d) == Arch.coerce(text) == Arch.coerce(a) == a


@pytest.mark.parametrize("text", CANONICAL)
def test_yaml_round_trip(text):
    a = Arch.parse(text)
    dumped = yaml.safe_dump(a.to_dict())  # safe_dump refuses tuples and other Python-only types
    assert Arch.from_dict(yaml.safe_load(dumped)) == a
    assert str(Arch.from_dict(yaml.safe_load(dumped))) == text


def test_handwritten_yaml_uses_defaults():
    a = Arch.from_dict(yaml.safe_load("family: cnn\nwidths: [1, 8, 10]\nkernel: 5\n"))
    assert a == Arch("cnn", (1, 8, 10), activation="relu", bias=True, kernel=5, stride=2)
    assert str(a) == "cnn:1-8-10:relu:k5:s2"


def test_parse_is_lenient_about_case_space_and_option_order():
    a = Arch.parse("  MLP:784-64-64-10:NoBias:SKIP:Tanh ")
    assert a == Arch("mlp", (784, 64, 64, 10), activation="tanh", bias=False, skips=True)
    assert str(a) == "mlp:784-64-64-10:tanh:skip:nobias"
    assert Arch.parse("mlp:784-10").activation == "relu"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "malformed architecture ''"),
        ("mlp", "malformed architecture 'mlp'"),
        ("mlp:784-x-10:relu", "malformed widths '784-x-10'"),
        ("mlp:784--10:relu", "malformed widths '784--10'"),
        ("rnn:1-2:relu", "unknown architecture family 'rnn'"),
        ("mlp:784-64-10:swish", "unknown option 'swish'"),
        ("mlp:784-64-10:relu:skip:bogus", "unknown option 'bogus'"),
        ("mlp:784-0-10:relu", "(784, 0, 10)"),
        ("mlp:784:relu", "at least an input and an output"),
        ("cnn:1-10:relu", "at least one conv layer"),
        ("cnn:1-8-10:relu:skip", "skips are supported for the mlp family only"),
        ("cnn:1-8-10:relu:k0", "kernel (0)"),
        ("mlp:784-10:relu:k5", "cnn family only"),  # would otherwise be lost by str()
    ],
)
def test_malformed_strings_name_the_problem(text, fragment):
    with pytest.raises(ArchError) as info:
        Arch.parse(text)
    assert fragment in str(info.value)


def test_parse_rejects_non_strings():
    with pytest.raises(ArchError, match="string is expected, got int"):
        Arch.parse(784)


def test_arch_error_is_a_value_error_and_a_metanet_error():
    with pytest.raises(ValueError):
        Arch.parse("nope")
    assert issubclass(ArchError, MetanetError)


@pytest.mark.parametrize(
    "d, fragment",
    [
        ([], "mapping is expected, got list"),
        ({"family": "mlp"}, "needs 'family' and 'widths'"),
        ({"family": "mlp", "widths": [4, 2], "depth": 3}, "unknown architecture keys ['depth']"),
        ({"family": "mlp", "widths": "784-64-10"}, "whole numbers"),
        ({"family": "mlp", "widths": None}, "whole numbers"),
        ({"family": "mlp", "widths": [784.5, 10]}, "whole numbers"),
        ({"family": "mlp", "widths": [4, 2], "activation": "swish"}, "unknown activation 'swish'"),
    ],
)
def test_malformed_dicts_raise_arch_error(d, fragment):
    with pytest.raises(ArchError) as info:
        Arch.from_dict(d)
    assert fragment in str(info.value)


def test_views():
    a = Arch.parse("mlp:784-64-64-32-32-10:relu:skip")
    assert (a.in_size, a.hidden, a.num_classes, a.num_layers) == (784, (64, 64, 32, 32), 10, 5)
    assert a.skip_layers() == (1, 3)  # only hidden->hidden layers of equal width
    assert Arch.parse("mlp:784-64-64-32-32-10:relu").skip_layers() == ()
    assert Arch.parse("mlp:64-64-64:relu:skip").skip_layers() == ()  # input and output layers never skip


def test_fits():
    assert Arch.parse("mlp:784-10").fits((1, 28, 28))
    assert not Arch.parse("mlp:784-10").fits((1, 8, 8))
    cnn = Arch.parse("cnn:1-8-10:relu")
    assert cnn.fits((1, 28, 28)) and cnn.fits((1, 8, 8))
    assert not cnn.fits((3, 8, 8)) and not cnn.fits((64,))
