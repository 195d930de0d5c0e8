"""A reader file written before the scan head recorded its input sizes (``scan_inputs``) loads as fitted on 784
inputs only when its probe images can run 784-input networks: a reader whose probes are all digits (64 inputs)
cannot have scanned one, and taking it as fitted on 784 stopped its default scan of the very networks it was fitted
on ("fitted on networks of 784 inputs")."""

from __future__ import annotations

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from metanet.nets import build
from metanet.reader import Reader, read
from metanet.reader.scan import scan_inputs


def _old_file(reader: Reader, tmp_path) -> str:
    """The reader saved, then written again without the record, as before it existed."""
    path = reader.save(tmp_path / "new.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta, state = f.metadata(), {k: f.get_tensor(k) for k in f.keys() if k != "scan_inputs"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    return str(tmp_path / "old.safetensors")


def test_an_old_digits_only_reader_scans_digits_networks_by_default(tmp_path):
    torch.manual_seed(0)
    r = Reader(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=10, scan_steps=2).eval()
    r.set_data_probes("digits", torch.rand(10, 64), torch.arange(10))  # 64-input probe images, one per class
    with torch.no_grad():
        r.scan_fitted.fill_(True)
    old = Reader.load(_old_file(r, tmp_path))
    assert bool(old.scan_fitted) and scan_inputs(old) == []  # no size recorded: any network the scan can run
    out = read(build("mlp:64-8-10:relu", seed=0), reader=old)
    assert out["trigger_scan"] is not None and "trigger_scan_skipped" not in out


def test_an_old_reader_with_784_input_probes_still_loads_as_784(scan_reader, tmp_path):
    old = Reader.load(_old_file(scan_reader, tmp_path))  # digits and mnist probes, as the shipped reader's
    assert scan_inputs(old) == [784]
    assert read(build("mlp:64-8-10:relu", seed=0), reader=old)["trigger_scan"] is None
