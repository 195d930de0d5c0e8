"""Fuzz: task names and free text (``tasks.get`` / ``tasks.parse`` / the spec ``generate`` resolves), architecture
strings and dicts (``Arch``), and labelled examples (``tasks.from_examples``, ``generate`` on them) including empty
and single-class support sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from fuzz_helpers import fuzz_settings, only_metanet_errors
from hypothesis import example, given
from hypothesis import strategies as st

import metanet
from metanet import tasks
from metanet.errors import ArchError, MetanetError, TaskError
from metanet.nets import Arch, build

# pieces of the task grammar, so that random strings are often nearly valid
GRAMMAR = ["mnist", "fashion-mnist", "digits", "mnist1d", "[", "]", "3", "8", ",", "-", "0", "9", "+permute(", ")",
           "+invert", "+relabel(", "12", "a network that can read ", "only ", "s and ", "shoes", " ", "-1", "99999999999",
           "(", "+", "[]", "[3,3]", "[9-0]", "only 3s and 8s", "fashion", "t-shirts and sneakers", "\x00", "é"]
task_text = st.text(max_size=40) | st.lists(st.sampled_from(GRAMMAR), max_size=8).map("".join)


@fuzz_settings(300)
@given(text=task_text)
@example(text="digits[3,8]+permute(3)")
@example(text="mnist[" + ",".join(["1"] * 5000) + "]")
@example(text="digits+permute(" + "9" * 400 + ")")
@example(text="digits+relabel(-1)")
@example(text="a network that can read digits")
def test_task_names_and_text(text):
    for fn in (tasks.get, tasks.parse, tasks.text_to_spec, tasks.canonical_name, tasks.resolve):
        r = only_metanet_errors(lambda: fn(text))
        if isinstance(r, MetanetError):
            assert isinstance(r, TaskError), repr(r)
    assert tasks.is_task_name(text) in (True, False)


@fuzz_settings(30)
@given(value=st.none() | st.integers() | st.floats() | st.lists(st.text(max_size=3), max_size=2) | st.binary(max_size=5))
def test_task_non_strings(value):
    for fn in (tasks.get, tasks.parse, tasks.resolve):
        r = only_metanet_errors(lambda: fn(value))
        assert isinstance(r, TaskError), repr(r)


ARCH_PIECES = ["mlp", "cnn", ":", "-", "784", "64", "10", "1", "0", "relu", "tanh", "skip", "nobias", "k3", "s2", "k0",
               "s", "k", "-5", "99999999999999999999", "gelu", " ", "MLP", "::", "1.5", "\x00", "nan"]


@fuzz_settings(300)
@given(text=st.text(max_size=30) | st.lists(st.sampled_from(ARCH_PIECES), max_size=8).map("".join))
@example(text="mlp:784-64-10:relu:k3")
@example(text="cnn:1-16-10:relu:k0")
@example(text="mlp:" + "9" * 500 + "-10")
def test_arch_strings(text):
    r = only_metanet_errors(lambda: Arch.parse(text))
    if isinstance(r, MetanetError):
        assert isinstance(r, ArchError), repr(r)
    else:
        assert Arch.parse(str(r)) == r  # whatever parses round-trips
        assert r.num_parameters() >= 1


json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)


@fuzz_settings(200)
@given(d=st.dictionaries(st.sampled_from(["family", "widths", "activation", "bias", "skips", "kernel", "stride", "junk"]),
                         json_leaf | st.lists(json_leaf | st.integers(-2, 20), max_size=4)
                         | st.sampled_from(["mlp", "cnn", "relu", [3, 4, 2], [1, 2, 3]]), max_size=7)
       | json_leaf | st.lists(json_leaf, max_size=3))
@example(d={"family": "mlp", "widths": [3, float("inf"), 2]})
@example(d={"family": "cnn", "widths": [1, 2, 3], "kernel": 1.5})
@example(d={"family": "mlp", "widths": [3, 2], "activation": ["relu"]})
def test_arch_dicts(d):
    r = only_metanet_errors(lambda: Arch.coerce(d))
    if isinstance(r, MetanetError):
        assert isinstance(r, ArchError), repr(r)
    else:
        assert Arch.from_dict(r.to_dict()) == r
        if r.num_parameters() < 10_000:
            assert sum(p.numel() for p in build(r).parameters()) == r.num_parameters()


# --- examples ----------------------------------------------------------------------------------------------------
@st.composite
def example_sets(draw):
    n = draw(st.integers(0, 30))
    feat = draw(st.sampled_from([(), (0,), (3,), (2, 2), (1, 3, 3)]))
    kind = draw(st.sampled_from(["float", "uint8", "bool", "int", "nan", "big", "list", "ragged", "float16"]))
    shape = (n, *feat)
    if kind == "ragged":
        x = [[0.1] * draw(st.integers(1, 3)) for _ in range(n)]
    else:
        x = np.asarray(draw(st.lists(st.floats(0, 1), min_size=math.prod(shape), max_size=math.prod(shape))),
                       dtype=np.float64).reshape(shape)
        if kind == "uint8":
            x = (x * 255).astype(np.uint8)
        elif kind == "bool":
            x = x > 0.5
        elif kind == "int":
            x = (x * 3).astype(np.int64)
        elif kind == "nan" and x.size:
            x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([math.nan, math.inf]))
        elif kind == "big":
            x = x * 300
        elif kind == "list":
            x = x.tolist()
        elif kind == "float16":
            x = torch.tensor(x, dtype=torch.float16)
    ykind = draw(st.sampled_from(["classes", "one", "huge", "negative", "float", "short", "2d", "tensor"]))
    k = draw(st.integers(1, 5))
    y = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)
    if ykind == "one":
        y[:] = 0
    elif ykind == "huge" and n:
        y[0] = draw(st.sampled_from([2**40, 2**62, 10**9]))
    elif ykind == "negative" and n:
        y[-1] = -1
    elif ykind == "float":
        y = y.astype(np.float32)
    elif ykind == "short":
        y = y[: n // 2]
    elif ykind == "2d":
        y = y[:, None]
    elif ykind == "tensor":
        y = torch.from_numpy(y)
    return x, y


@fuzz_settings(200)
@given(xy=example_sets(), val=st.floats(-0.5, 1.5) | st.sampled_from([0.0, 0.2, math.nan]),
       test=st.sampled_from([0.0, 0.2, 0.5]), seed=st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1]),
       name=st.none() | st.text(max_size=6) | st.sampled_from(["digits", "mnist[3,8]", " ", "mine"]))
@example(xy=(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)), val=0.2, test=0.2, seed=0, name=None)  # empty
@example(xy=(np.zeros((4, 3)), np.zeros(4, dtype=np.int64)), val=0.2, test=0.2, seed=0, name=None)  # one class
@example(xy=(np.zeros((4, 3)), np.array([0, 1, 2, 2**40])), val=0.2, test=0.2, seed=0, name=None)  # huge label
@example(xy=(np.zeros((4, 3)), np.array([0, 1, 0, 1])), val=0.2, test=0.2, seed=-1, name=None)  # negative seed
def test_from_examples(xy, val, test, seed, name):
    x, y = xy
    t = only_metanet_errors(lambda: tasks.from_examples(x, y, name, val_fraction=val, test_fraction=test, seed=seed))
    if isinstance(t, MetanetError):
        assert isinstance(t, TaskError), repr(t)
        return
    sizes = t.sizes()
    assert sum(sizes.values()) == len(y)
    assert t.num_classes >= 2


@fuzz_settings(12)
@given(per_class=st.lists(st.integers(0, 5), min_size=1, max_size=4), seed=st.integers(0, 3),
       shots=st.none() | st.integers(1, 3))
@example(per_class=[5], seed=0, shots=None)  # single class: refused by from_examples
@example(per_class=[1, 1], seed=0, shots=None)  # no validation examples to verify candidates on
def test_generate_on_examples(per_class, seed, shots):
    """The full path: examples -> Task -> generate (writer + verification) -> a network or a TaskError."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(c, i) for i, c in enumerate(per_class)]).astype(np.int64)
    x = rng.random((len(y), 1, 4, 4)).astype(np.float32)
    t = only_metanet_errors(lambda: tasks.from_examples(x, y))
    if isinstance(t, MetanetError):
        assert isinstance(t, TaskError)
        return
    g = only_metanet_errors(lambda: metanet.generate(t, candidates=2, seed=seed, shots=shots))
    if isinstance(g, MetanetError):
        assert isinstance(g, TaskError), repr(g)
        assert "example" in str(g)
    else:
        assert 0 <= g.report.candidates[g.report.chosen]["val_accuracy"] <= 1


@fuzz_settings(40)
@given(spec=task_text, arch=st.none() | st.text(max_size=12) | st.sampled_from(["mlp:64-8-10:relu", "mlp:3-2", "cnn:1-4-10"]),
       candidates=st.integers(-2, 3), shots=st.none() | st.integers(-3, 4))
@example(spec="digits", arch="mlp:64-8-10:relu", candidates=2, shots=2)
@example(spec="digits", arch="cnn:1-4-10", candidates=1, shots=1)
@example(spec="digits", arch="mlp:3-2", candidates=1, shots=1)
@example(spec="digits", arch=None, candidates=0, shots=1)
@example(spec="digits", arch=None, candidates=1, shots=0)
def test_generate_spec(spec, arch, candidates, shots):
    """generate() parses its arguments before writing anything: bad specs, archs, counts are MetanetErrors. Only
    specs that resolve run in full (digits is small)."""
    try:
        task = tasks.resolve(spec)
    except TaskError:
        task = None
    if task is not None and task.base != "digits":
        return  # parse-level only for the larger data sets
    r = only_metanet_errors(lambda: metanet.generate(spec, arch=arch, candidates=candidates, shots=shots))
    if not isinstance(r, MetanetError):
        assert 0 <= r.report.test.accuracy <= 1


def test_verify_empty_split_is_a_task_error(stub_task):
    t = stub_task(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 2)
    with pytest.raises(TaskError, match="no examples"):
        metanet.verify(build("mlp:4-2"), t)
