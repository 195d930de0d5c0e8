"""`metanet.read` on networks unlike the zoos' and in callers' unusual torch states: every field finite and in its
documented range, and a caller's ``torch.autocast`` (a mixed-precision evaluation loop) leaves the reading as it
is, where it was a raw NotImplementedError from the reader's sparse message passing."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import metanet
from metanet.nets import build
from metanet.reader.model import ACTIVATION_NAMES, OPTIMIZER_NAMES
from reader_helpers import needs_shipped, tiny_reader


def _zeroed(arch: str) -> torch.nn.Module:
    net = build(arch, seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    return net


def _one_huge(arch: str) -> torch.nn.Module:
    net = build(arch, seed=0)
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = 1e6
    return net


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_read_under_a_callers_autocast_is_the_float32_reading(dtype):
    reader = tiny_reader()
    net = build("mlp:64-16-10:relu", seed=3)
    ref = metanet.read(net, reader=reader, scan=False)
    with torch.autocast("cpu", dtype=dtype):
        out = metanet.read(net, reader=reader, scan=False)
        assert torch.is_autocast_enabled("cpu")  # the caller's autocast is given back
    assert out == ref


@needs_shipped
def test_shipped_read_with_the_scan_under_autocast():
    net = build("mlp:64-8-10:relu", seed=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # scan=True: by default the scan skips 64-input networks
        out = metanet.read(net, scan=True)
    assert out["trigger_scan"] is not None and out == metanet.read(net, scan=True)


@needs_shipped
@pytest.mark.parametrize("net", [
    build("mlp:784-64-10:relu", seed=0), _zeroed("mlp:64-32-10:relu"), _one_huge("mlp:784-32-10:relu"),
    build("mlp:784-1-10:relu", seed=0), build("mlp:784-10:relu", seed=0), build("mlp:784-16-16-16-16-10:gelu:skip"),
    build("mlp:64-16-2:sigmoid", seed=0), build("mlp:40-16-10:tanh", seed=0), build("mlp:64-8-1:relu", seed=0),
    build("mlp:64-8-12:relu", seed=0), build("cnn:1-4-8-10:relu", seed=0), build("mlp:784-32-10:relu").half(),
], ids=["fresh", "zero", "huge", "width1", "depth1", "depth4-skip", "2-class", "40-in", "1-out", "12-out", "cnn",
        "half"])
def test_every_field_of_an_unusual_network_is_in_its_documented_range(net):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 12-output network's out_of_range warning
        out = metanet.read(net, scan=False)

    def unit(v: float) -> bool:
        return isinstance(v, float) and math.isfinite(v) and 0.0 <= v <= 1.0

    assert unit(out["accuracy"]) and unit(out["backdoor"]) and out["task"] in out["task_probabilities"]
    assert all(map(unit, out["task_probabilities"].values()))
    assert math.isclose(sum(out["task_probabilities"].values()), 1.0, abs_tol=1e-4)
    # None only for a CNN whose image size nothing gave (its weights do not fix it), and then said why
    assert out["task_fits"] in (True, False) if "input_size_unknown" not in out else out["task_fits"] is None
    hp = out["hyperparameters"]
    assert math.isfinite(hp["lr"]) and hp["lr"] > 0 and math.isfinite(hp["epoch"]) and hp["epoch"] >= 0
    assert hp["optimizer"] in OPTIMIZER_NAMES and hp["activation"] in ACTIVATION_NAMES
    outputs = list(net.parameters())[-1].shape[0]
    for n in out["neurons"]:
        if n["role"] is None:  # a CNN's channels
            assert n["confidence"] is None
            continue
        assert n["role"] in ("dead", "polysemantic", "selective") and unit(n["confidence"])
        assert ("class" in n) == (n["role"] == "selective")
        assert 0 <= n.get("class", 0) < outputs
