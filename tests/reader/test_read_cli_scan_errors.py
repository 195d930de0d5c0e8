"""``metanet read FILE --scan`` where the trigger scan cannot run: the error names the command's flags (it named
read()'s parameters, ``scan=None`` / ``scan=False``, which the command line has no way to give)."""

from __future__ import annotations

import torch

import metanet
from metanet.cli import main
from metanet.nets import build
from metanet.reader import Reader


def _error(capsys) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("metanet: error: ")
    return lines[0]


def test_scan_of_a_network_the_scan_cannot_run_names_the_flags(scan_reader, tmp_path, capsys):
    net = metanet.save(build("mlp:40-8-10:relu", seed=0), tmp_path / "net.safetensors")  # no probes of 40 inputs
    ckpt = scan_reader.save(tmp_path / "reader.safetensors")
    assert main(["read", str(net), "--reader", str(ckpt), "--scan"]) == 2
    err = _error(capsys)
    assert "the trigger scan cannot run on this network" in err
    assert err.endswith("; read without --scan (the scan where it applies) or with --no-scan for the weights-only "
                        "backdoor probability")
    assert "scan=" not in err


def test_scan_with_a_reader_without_a_fitted_head_names_no_scan(scan_reader, tmp_path, capsys):
    net = metanet.save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors")
    unfitted = Reader.load(scan_reader.save(tmp_path / "fitted.safetensors"))
    with torch.no_grad():
        unfitted.scan_fitted.fill_(False)
    ckpt = unfitted.save(tmp_path / "reader.safetensors")
    assert main(["read", str(net), "--reader", str(ckpt), "--scan"]) == 2
    err = _error(capsys)
    assert "this reader has no fitted trigger scan" in err and err.endswith("read with --no-scan")
    assert "scan=" not in err
    assert main(["read", str(net), "--reader", str(ckpt), "--no-scan"]) == 0  # the advice works
