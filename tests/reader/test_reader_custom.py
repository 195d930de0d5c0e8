"""A reader built with non-default options (sizes, rounds, probes, classes, its own task list, data probes, with and
without the trigger-scan head) keeps every option through ``Reader.save`` / ``Reader.load`` and through a Lightning
``.ckpt`` of a tiny ``train/reader.yaml`` fit, and the surfaces that take a reader honour it: ``metanet.read``,
``metanet read --reader``, ``metanet.inspect(reader=...)``; its errors name its own limits, not the shipped ones."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

import metanet
from metanet.checkpoints import save_module
from metanet.cli import main
from metanet.errors import GraphError
from metanet.nets import build
from metanet.reader import Reader
from metanet.train import cli_main

ROOT = Path(__file__).resolve().parents[2]
#: non-default options of every kind (the scan head on and off: see the parametrisation)
OPTIONS = dict(tasks=["digits", "digits[0-4]", "mnist"], hidden=8, layers=3, probes=2, num_classes=12,
               max_layers=4, probe_inputs=[784, 64], data_probes=6, derived_probes=3, task_evidence=1.5,
               saliency=True, task_cap=2.0, stats=False)


def _custom(scan_steps: int) -> Reader:
    torch.manual_seed(0)
    r = Reader(**OPTIONS, scan_steps=scan_steps)
    r.fill_data_probes("val", seed=0)
    return r.eval()


def _net(tmp: Path) -> tuple[torch.nn.Module, Path]:
    net = build("mlp:64-16-10:relu", seed=1).eval()
    return net, metanet.save(net, tmp / "net.safetensors")


@pytest.mark.parametrize("scan_steps", [0, 5])
def test_save_load_keeps_every_option_and_every_reading(tmp_path, capsys, scan_steps):
    r = _custom(scan_steps)
    path = r.save(tmp_path / "r.safetensors")
    loaded = Reader.load(path)
    assert loaded.config == r.config and loaded.scan_steps == scan_steps
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), r.state_dict().values(), strict=True))
    net, file = _net(tmp_path)
    mine = metanet.read(net, reader=r, scan=False)
    assert metanet.read(net, reader=loaded, scan=False) == mine
    assert metanet.read(file, reader=str(path), scan=False) == mine
    assert set(mine["task_probabilities"]) == set(OPTIONS["tasks"])
    assert main(["read", str(file), "--reader", str(path), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(mine))


def test_a_header_length_starting_with_0x80_is_still_a_safetensors_checkpoint(tmp_path):
    # the header length is little-endian: one file in 256 begins with the byte 0x80 and was refused as "a PyTorch /
    # Lightning checkpoint (torch.save), not a safetensors file" (this reader's own save, with a note of some length)
    r = _custom(0)
    for pad in range(256):
        path = r.save(tmp_path / "r.safetensors", note="x" * pad)
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length starting with 0x80")
    assert Reader.load(path).config == r.config
    # as a .ckpt name: read as the safetensors file it is, not by torch.load
    ckpt = tmp_path / "r.ckpt"
    ckpt.write_bytes(save_module(r, tmp_path / "again.safetensors", "reader", r.config, note="x" * pad).read_bytes())
    assert Reader.load(ckpt).config == r.config


def test_inspect_reads_roles_with_a_reader_it_is_given(tmp_path):
    # a Reader is callable (on graphs): inspect called it on the model and recorded "reader failed" for every neuron
    r = _custom(0)
    net, _ = _net(tmp_path)
    db = metanet.inspect(net, "digits", reader=r, max_examples=40)
    assert db.meta["reader"] == "from the reader", db.meta["reader"]
    want = {(n["layer"], n["index"]): n["role"] for n in metanet.read(net, reader=r, scan=False)["neurons"]}
    assert [row["role"].split(":")[0] for row in db.rows] == [want[(row["layer"], row["idx"])] for row in db.rows]


def test_the_kernel_error_names_this_readers_edge_dim():
    # edge_dim=1 reads MLPs only: it was told "valid: kernels up to 3x3" (the shipped reader's edge_dim of 9)
    torch.manual_seed(0)
    mlp_only = Reader(tasks=["mnist"], hidden=8, layers=1, probes=2, edge_dim=1).eval()
    with pytest.raises(GraphError, match=r"larger than 1x1.*valid: kernels up to 1x1,"):
        metanet.read(build("cnn:1-4-10:relu", seed=0), reader=mlp_only, scan=False)
    wide = Reader(tasks=["mnist"], hidden=8, layers=1, probes=2, edge_dim=12).eval()
    with pytest.raises(GraphError, match=r"larger than 12 entries"):
        metanet.read(build("cnn:1-4-10:relu:k5", seed=0), reader=wide, scan=False)


def test_data_probes_wider_than_the_bank_name_the_option_to_change():
    # the bank is as wide as the largest of probe_inputs: a fit of a reader without its tasks' input size among them
    # failed as it began with "at most 64 input values", and no word on which option sets that
    small = Reader(tasks=["mnist"], hidden=8, layers=1, probes=0, probe_inputs=[64], data_probes=4)
    with pytest.raises(GraphError, match=r"largest of this reader's probe_inputs \[64\]: build it with 784 among"):
        small.set_data_probes("mnist", torch.rand(4, 784), torch.arange(4))
    none = Reader(tasks=["mnist"], hidden=8, layers=1, probes=0, probe_inputs=[], max_inputs=100, data_probes=4)
    with pytest.raises(GraphError, match=r"max_inputs, 100, without probe_inputs: build it with probe_inputs \[784\]"):
        none.fill_data_probes("val", seed=0)


@pytest.mark.parametrize("scan_steps", [0, 5])
def test_a_lightning_checkpoint_of_a_tiny_fit_keeps_every_option(tmp_path, tiny_zoo, capsys, scan_steps):
    tasks = "[digits,fashion-mnist,mnist]"
    args = ["fit", "-c", str(ROOT / "train" / "reader.yaml"), "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", "--trainer.max_steps=1", "--trainer.limit_val_batches=1",
            f"--trainer.default_root_dir={tmp_path}", f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}",
            f"--model.init_args.export={tmp_path / 'reader.safetensors'}", f"--data.init_args.zoos=[{tiny_zoo}]",
            "--data.init_args.max_nets=16", "--data.init_args.exclude_archs=[]", f"--data.init_args.tasks={tasks}",
            f"--model.init_args.tasks={tasks}", "--model.init_args.hidden=8", "--model.init_args.layers=1",
            "--model.init_args.probes=4", "--model.init_args.num_classes=12", "--model.init_args.probe_inputs=[784,64]",
            "--model.init_args.data_probes=20", "--model.init_args.derived_probes=5", "--model.init_args.task_cap=0",
            "--model.init_args.saliency=false", f"--model.init_args.scan_steps={scan_steps}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice; the scan head's "not fitted" on so few val networks
        assert cli_main(args) == 0
    export = Reader.load(tmp_path / "reader.safetensors")
    want = dict(tasks=["digits", "fashion-mnist", "mnist"], hidden=8, layers=1, probes=4, num_classes=12,
                probe_inputs=[784, 64], data_probes=20, derived_probes=5, saliency=False)
    assert {k: export.config[k] for k in want} == want and export.scan_steps == scan_steps
    assert "task_cap" not in export.config  # 0: no cap, stored as a reader without one
    net, file = _net(tmp_path)
    ckpts = sorted((tmp_path / "runs").rglob("last.ckpt"))
    assert len(ckpts) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unfitted scan head in a .ckpt is said with a warning
        from_ckpt = Reader.load(ckpts[0])
    assert from_ckpt.config == export.config
    # the checkpoint was taken before the fit's end (the scan head's fitting): the rest are the export's weights
    scan = {"scan_norm", "scan_coef", "scan_bias", "scan_fitted"}
    for (k, a), b in zip(from_ckpt.state_dict().items(), export.state_dict().values(), strict=True):
        assert k in scan or torch.equal(a, b), k
    assert metanet.read(net, reader=from_ckpt, scan=False) == metanet.read(net, reader=export, scan=False)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["read", str(file), "--reader", str(ckpts[0]), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(metanet.read(net, reader=export, scan=False)))
