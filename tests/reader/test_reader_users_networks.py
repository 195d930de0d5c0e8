"""`metanet.read` on networks users bring rather than the zoos': a trigger scan that cannot run them says so (it was
left out silently, even with ``scan=True``), and a graph whose edge values are zero-padded past the reader's width
reads as the unpadded one (it was refused as "a kernel larger than 3x3")."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet.errors import GraphError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader, read
from metanet.reader.scan import scan_problem


@pytest.mark.parametrize("arch, why", [
    ("mlp:40-16-10:relu", r"no probe images for 40 inputs and 10 output\(s\).*valid: 784 inputs with 10 classes; "
                          r"64 inputs with 10 classes"),
    ("mlp:784-16-1:relu", r"no probe images for 784 inputs and 1 output\(s\)"),
    ("cnn:3-4-4-10:relu", r"a CNN of 3 input channels, and the scan runs CNNs on the reader's 1-channel 28x28"),
])
def test_a_scan_that_cannot_run_says_why(scan_reader, arch, why):
    net = build(arch, seed=0)
    out = read(net, reader=scan_reader)
    assert out["trigger_scan"] is None
    assert out["trigger_scan_skipped"].startswith("the trigger scan cannot run on this network: ")
    with torch.no_grad():  # the weights-only probability
        assert out["backdoor"] == pytest.approx(float(torch.sigmoid(scan_reader(to_graph(net))["backdoor"][0])))
    # scan=True gave the weights-only probability as if the scan had run
    with pytest.raises(GraphError, match=rf"trigger scan cannot run on this network: .*{why}.*read with scan=None "
                                         r"\(the default: the scan where it applies\) or scan=False"):
        read(net, reader=scan_reader, scan=True)
    assert "trigger_scan_skipped" not in read(net, reader=scan_reader, scan=False)  # not asked for: nothing to say


def test_a_plain_sequential_cnn_is_named_as_what_the_scan_cannot_run(scan_reader):
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    assert "plain nn.Sequential with convolution or pooling layers" in read(net, reader=scan_reader)[
        "trigger_scan_skipped"]


def test_a_network_the_scan_runs_keeps_its_keys(scan_reader):
    net = build("mlp:64-8-10:relu", seed=0)
    assert scan_problem(scan_reader, to_graph(net)) is None
    out = read(net, reader=scan_reader, scan=True)
    assert out["trigger_scan"] is not None and "trigger_scan_skipped" not in out
    assert read(net, reader=scan_reader) == out


def test_cli_read_says_why_the_scan_did_not_run(scan_reader, tmp_path, capsys):
    from metanet.cli import main

    path = metanet.save(build("mlp:40-16-10:relu", seed=0), tmp_path / "net.safetensors")
    ckpt = scan_reader.save(tmp_path / "reader.safetensors")
    assert main(["read", str(path), "--reader", str(ckpt)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  backdoor"))
    assert "(probability, weights only; the trigger scan cannot run on this network: the reader has no probe images " \
           "for 40 inputs and 10 output(s)" in line


def test_zero_padded_edge_values_read_as_the_network():
    torch.manual_seed(0)
    reader = Reader(tasks=["mnist"], hidden=8, layers=1, probes=2).eval()
    net = build("cnn:1-4-4-10:relu:k3:s2", seed=0)
    wide = to_graph(net, edge_dim=16)  # a 3x3 kernel in 16 columns: 7 of padding
    assert read(wide, reader=reader, scan=False) == read(net, reader=reader, scan=False)
    assert wide.edge_attr.shape[1] == 16  # the caller's graph is left as it was
    # values beyond the reader's 9 columns are a kernel it cannot read: still refused, naming it
    with pytest.raises(GraphError, match=r"carry up to 25 values each: a kernel larger than 3x3"):
        read(build("cnn:1-4-4-10:relu:k5:s2", seed=0), reader=reader, scan=False)


def test_the_roles_of_a_cnns_channels_are_not_presented_as_readings():
    # the role head was trained on MLP neurons only (roles.measured): every CNN channel got a role and a confidence
    # from an untrained head, presented like any reading
    cnn = metanet.read(build("cnn:1-8-8-10:relu:k3:s2"), scan=False)
    assert cnn["neurons"] and all(n["role"] is None and n["confidence"] is None for n in cnn["neurons"])
    assert "CNN" in cnn["roles_not_read"]
    mlp = metanet.read(build("mlp:784-16-10:relu"), scan=False)
    assert "roles_not_read" not in mlp and all(n["role"] in ("dead", "polysemantic", "selective")
                                               for n in mlp["neurons"])
