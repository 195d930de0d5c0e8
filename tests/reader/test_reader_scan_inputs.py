"""The trigger scan's head records the input sizes it was fitted on (``Reader.scan_inputs``), and ``metanet.read``
scans by default only networks of those sizes: the shipped head, fitted on 784-input networks, read clean trained
digits (64-input) MLPs as backdoored at 0.5-0.99 (the weights-only head: < 1e-4). Readers saved before the record
existed load as fitted on 784 inputs, by every load path."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import metanet
from metanet.nets import build
from metanet.reader import Reader, read
from metanet.reader.scan import SCAN_INPUT_SLOTS, fit_scan, scan_inputs

from reader_helpers import needs_shipped


def _trained_digits_mlp() -> torch.nn.Module:
    """The measured repro: a clean 64-32-10 MLP, Adam 1e-3, 30 epochs of batch 64 on digits' train split."""
    x, y = metanet.tasks.get("digits").split("train")
    torch.manual_seed(0)
    net = build("mlp:64-32-10:relu", seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(30):
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()


@needs_shipped
def test_the_shipped_reader_skips_the_scan_of_a_digits_mlp_by_default():
    net = _trained_digits_mlp()
    out = read(net)
    assert out["trigger_scan"] is None
    assert out["trigger_scan_skipped"] == (
        "the trigger scan's head was fitted on networks of 784 inputs and this network has 64, for which its evidence "
        "is not calibrated, so backdoor is the weights-only head's (read(..., scan=True) runs the scan anyway)")
    assert out["backdoor"] == read(net, scan=False)["backdoor"] < 1e-3  # the weights-only probability
    forced = read(net, scan=True)  # runs as before
    assert forced["trigger_scan"] is not None and "trigger_scan_skipped" not in forced
    assert forced["backdoor"] > 0.5  # what the default read said before: the head's evidence misread here
    assert forced["trigger_scan"]["reader_only"] == out["backdoor"]


@needs_shipped
def test_the_shipped_reader_still_scans_784_input_networks_by_default():
    out = metanet.read(metanet.generate("mnist", seed=0).model)
    assert out["trigger_scan"] is not None and "trigger_scan_skipped" not in out


def _fitted(reader: Reader, sizes: list[int]) -> Reader:
    with torch.no_grad():
        reader.scan_fitted.fill_(True)
        reader.scan_inputs.zero_()
        reader.scan_inputs[:len(sizes)] = torch.tensor(sizes)
    return reader


def test_a_reader_fitted_on_64_inputs_scans_64_by_default_and_skips_784(scan_reader):
    r = _fitted(scan_reader, [64])
    assert read(build("mlp:64-8-10:relu", seed=0), reader=r)["trigger_scan"] is not None
    out = read(build("mlp:784-8-10:relu", seed=0), reader=r)
    assert out["trigger_scan"] is None
    assert "fitted on networks of 64 inputs and this network has 784" in out["trigger_scan_skipped"]
    # a CNN is sized by the images the scan runs it on: channels x H x W
    cnn = read(build("cnn:1-4-4-10:relu", seed=0), reader=r)
    assert "this network has 784 (1x28x28 images)" in cnn["trigger_scan_skipped"]
    assert read(build("cnn:1-4-4-10:relu", seed=0), reader=r, input_shape=(1, 8, 8))["trigger_scan"] is not None


def test_a_scan_that_cannot_run_keeps_its_own_reason(scan_reader):
    out = read(build("mlp:40-8-10:relu", seed=0), reader=_fitted(scan_reader, [64]))
    assert out["trigger_scan_skipped"].startswith("the trigger scan cannot run on this network: ")


def test_fit_scan_records_the_input_sizes_it_scanned(scan_reader):
    from metanet.graph import to_graph

    graphs = []
    for i, arch in enumerate(["mlp:64-8-10:relu", "mlp:784-8-10:relu", "mlp:40-8-10:relu"] * 2):
        for bd in (0.0, 1.0):
            g = to_graph(build(arch, seed=i))
            g.y_backdoor, g.y_log_epoch = torch.tensor(bd), torch.tensor(1.0)
            graphs.append(g)
    with torch.no_grad():
        scan_reader.scan_fitted.fill_(False)
    fit = fit_scan(scan_reader, graphs)
    assert fit["inputs"] == [64, 784] == scan_inputs(scan_reader)  # 40 inputs: the scan cannot run them
    assert scan_reader.scan_inputs.tolist() == [64, 784] + [0] * (SCAN_INPUT_SLOTS - 2)


def test_fit_scan_refuses_more_sizes_than_it_records(monkeypatch, scan_reader):
    from metanet.errors import GraphError
    from metanet.graph import to_graph
    from metanet.reader import scan

    monkeypatch.setattr(scan, "SCAN_INPUT_SLOTS", 1)
    graphs = []
    for arch in ["mlp:64-8-10:relu", "mlp:784-8-10:relu"] * 2:
        g = to_graph(build(arch, seed=0))
        g.y_backdoor, g.y_log_epoch = torch.tensor(float(len(graphs) % 2)), torch.tensor(1.0)
        graphs.append(g)
    with pytest.raises(GraphError, match=r"records at most 1 input sizes .* these have 2 \(64, 784\)"):
        fit_scan(scan_reader, graphs)


def _without_record(src, dst) -> None:
    """A copy of a reader file as written before scan_inputs existed."""
    with safe_open(str(src), framework="pt") as f:
        meta, state = f.metadata(), {k: f.get_tensor(k) for k in f.keys() if k != "scan_inputs"}
    save_file(state, str(dst), metadata=meta)


def test_a_saved_reader_keeps_its_sizes_and_an_old_file_loads_as_784(tmp_path, scan_reader):
    path = _fitted(scan_reader, [64, 784]).save(tmp_path / "r.safetensors")
    assert scan_inputs(Reader.load(path)) == [64, 784]
    _without_record(path, tmp_path / "old.safetensors")
    old = Reader.load(tmp_path / "old.safetensors")
    assert scan_inputs(old) == [784] and bool(old.scan_fitted)
    assert read(build("mlp:64-8-10:relu", seed=0), reader=old)["trigger_scan"] is None  # as the shipped one
    assert read(build("mlp:784-8-10:relu", seed=0), reader=old)["trigger_scan"] is not None
    # by path too (read's own loading), and by the checkpoint module
    from metanet.checkpoints import load_module

    assert scan_inputs(load_module(Reader, tmp_path / "old.safetensors", "reader")) == [784]
    assert read(build("mlp:64-8-10:relu", seed=0), reader=tmp_path / "old.safetensors")["trigger_scan"] is None


@needs_shipped
def test_the_shipped_file_has_no_record_and_loads_as_784():
    from metanet.checkpoints import shipped

    with safe_open(str(shipped("reader")), framework="pt") as f:
        assert "scan_inputs" not in f.keys()  # the file is pinned: the record comes from the load
    assert scan_inputs(Reader.load()) == [784]


def test_a_lightning_checkpoint_without_the_record_loads_as_784(tmp_path):
    from metanet.reader.lightning import ReaderModule

    module = ReaderModule(tasks=["digits"], hidden=8, layers=1, probes=2, scan_steps=2)
    state = {k: v for k, v in module.state_dict().items() if k != "reader.scan_inputs"}
    assert len(state) == len(module.state_dict()) - 1
    ckpt = {"state_dict": state, "hyper_parameters": dict(module.hparams)}
    torch.save(ckpt, tmp_path / "old.ckpt")
    with pytest.warns(UserWarning, match="trigger-scan head is not fitted"):  # never fitted: a .ckpt's is not
        assert scan_inputs(Reader.load(tmp_path / "old.ckpt")) == [784]
    # the LightningModule's own strict loading (a resumed fit, load_from_checkpoint)
    fresh = ReaderModule(tasks=["digits"], hidden=8, layers=1, probes=2, scan_steps=2)
    fresh.load_state_dict(state, strict=True)
    assert scan_inputs(fresh.reader) == [784]


def test_a_reader_without_a_scan_head_has_no_record(tmp_path):
    r = Reader(tasks=["digits"], hidden=8, layers=1, probes=2)
    assert not hasattr(r, "scan_inputs") and scan_inputs(r) == []
    assert "scan_inputs" not in Reader.load(r.save(tmp_path / "r.safetensors")).state_dict()


def test_the_cli_prints_the_skip_reason(tmp_path, scan_reader, capsys):
    from metanet.cli import main

    net = tmp_path / "net.safetensors"
    metanet.save(build("mlp:784-8-10:relu", seed=0), net)
    reader = _fitted(scan_reader, [64]).save(tmp_path / "r.safetensors")
    assert main(["read", str(net), "--reader", str(reader)]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if s.strip().startswith("backdoor"))
    assert "(probability, weights only; the trigger scan's head was fitted on networks of 64 inputs and this " \
           "network has 784" in line
    assert line.endswith("(--scan runs the scan anyway))")  # the flag, not the Python call


def test_cli_scan_runs_the_scan_on_a_size_its_head_was_not_fitted_on(tmp_path, scan_reader, capsys):
    from metanet.cli import main

    net = tmp_path / "net.safetensors"
    metanet.save(build("mlp:784-8-10:relu", seed=0), net)
    reader = _fitted(scan_reader, [64]).save(tmp_path / "r.safetensors")
    assert main(["read", str(net), "--reader", str(reader), "--scan", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trigger_scan"] is not None and "trigger_scan_skipped" not in out
    with pytest.raises(SystemExit) as e:  # one or the other
        main(["read", str(net), "--reader", str(reader), "--scan", "--no-scan"])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
