"""`Arch`: string <-> dataclass <-> dict <-> YAML round trips and the errors malformed input gives."""

from __future__ import annotations

import json

import pytest
import torch
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
        ("cnn:1-8-10:relu:k\u00b2", "unknown option 'k\u00b2'"),  # '²'.isdigit() but int('²') fails
        ("mlp:784-64_10:relu", "malformed widths '784-64_10'"),  # int() reads '64_10' as 6410
        ("mlp:+784-10:relu", "malformed widths '+784-10'"),
        ("mlp:784-64-10:relu:tanh", "activation given twice ('relu' and 'tanh')"),
        ("cnn:1-8-10:relu:k3:k5", "kernel given twice (3 and 5)"),
        ("mlp:99999999999999999999-10:relu", "too large"),
        ("cnn:1-8-10:relu:k99999999999", "too large"),
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
    with pytest.raises(ValueError, match="malformed architecture 'nope'") as e:
        Arch.parse("nope")
    assert isinstance(e.value, ArchError) and isinstance(e.value, MetanetError)


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
        # sizes torch cannot hold: an ArchError, not a TypeError / RuntimeError when the network is built
        ({"family": "mlp", "widths": [10**20, 10]}, "too large"),
        ({"family": "mlp", "widths": [2**31 - 1, 2**31 - 1, 10]}, "too large"),
        ({"family": "cnn", "widths": [1, 4, 10], "stride": 2**40}, "too large"),
        ({"family": "cnn", "widths": [2**30, 2**30, 10], "kernel": 2**30}, "too large"),
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


def test_default_for():
    assert Arch.default_for((1, 28, 28), 10) == Arch("mlp", (784, 64, 10))
    assert Arch.default_for([40], 3, hidden=8) == Arch("mlp", (40, 8, 3))
    assert Arch.default_for(torch.Size([3, 8, 8]), 5).widths == (192, 64, 5)


@pytest.mark.parametrize(
    "args, fragment",
    [
        # an int where a shape is expected was a raw TypeError ('int' object is not iterable)
        ((784, 10), "input_shape must be a sequence of sizes >= 1, got 784"),
        # a zero size was reported as "widths (0, 64, 10)", naming no argument the caller gave
        (((1, 0, 28), 10), "input_shape must be a sequence of sizes >= 1, got (1, 0, 28)"),
        (((1, -28, -28), 10), "input_shape must be a sequence of sizes >= 1"),
        (((1, 28, 28), 0), "num_classes must be a whole number >= 1, got 0"),
        (((1, 28, 28), 10, 0), "hidden must be a whole number >= 1, got 0"),
    ],
)
def test_default_for_names_the_bad_argument(args, fragment):
    with pytest.raises(ArchError) as info:
        Arch.default_for(*args)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["mlp:784-64-10:relu:k3", "mlp:784-64-10:relu:s2", "mlp:784-10:k3:s2:nobias"])
def test_kernel_or_stride_on_an_mlp_is_refused_even_at_the_default(text):
    # k5 was refused but k3 / s2 (the dataclass defaults) were silently dropped: str() no longer shows them
    with pytest.raises(ArchError, match="cnn family only.*'kK' / 'sS'"):
        Arch.parse(text)
    assert str(Arch.parse("cnn:1-4-10:relu:k3:s2")) == "cnn:1-4-10:relu:k3:s2"
