"""Files from strangers: network headers naming more layers than anyone builds (or than the file's tensors fill),
float8 weights, checkpoint configs that build thousands of layers on the meta device, a zip-bomb Lightning .ckpt,
a device given as a checkpoint; and the Lightning .ckpt's shape mismatch in the words of the safetensors one."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import metanet.io
from metanet.checkpoints import shipped
from metanet.errors import ArchError, CheckpointError, FileFormatError
from metanet.io import load, save
from metanet.nets import build, spec
from metanet.reader import Reader
from metanet.writer import Writer

ARCH = "mlp:64-16-10:relu"


def _network_file(path: Path, spec_obj: dict, tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """A safetensors file with metanet's header: the given architecture, and ARCH's tensors unless others given."""
    if tensors is None:
        tensors = build(ARCH, seed=0).state_dict()
    header = {"metanet.format": "1", "metanet.spec": json.dumps(spec_obj), "metanet.meta": "{}"}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=header)
    return path


@pytest.fixture
def no_build(monkeypatch):
    """load() must refuse before building the architecture: building is what took minutes and gigabytes."""
    def refuse(d):
        raise AssertionError("the architecture was built")

    monkeypatch.setattr(metanet.io, "from_spec", refuse)


# --- network files -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec_obj", [{"family": "mlp", "widths": [4] * 10_002},
                                      {"family": "sequential", "layers": [{"type": "flatten"}] * 10_001}],
                         ids=["mlp", "sequential"])
def test_a_header_naming_more_layers_than_metanet_reads_is_refused_unbuilt(tmp_path, no_build, spec_obj):
    # a header of 3 MB naming a million layers hung load() (> 2 min, gigabytes): each layer is built on the meta device
    path = _network_file(tmp_path / "deep.safetensors", spec_obj)
    with pytest.raises(FileFormatError, match=r"architecture in its header is invalid .*it has 10,001 layers; "
                                              r"metanet reads networks of at most 10,000"):
        load(path)


@pytest.mark.parametrize("spec_obj, weights", [
    ({"family": "mlp", "widths": [4] * 501}, 500),
    ({"family": "sequential", "layers": [{"type": "linear", "in": 4, "out": 4, "bias": False}] * 9}, 9),
], ids=["mlp", "sequential"])
def test_weight_layers_the_file_has_no_tensors_for_are_not_built(tmp_path, no_build, spec_obj, weights):
    path = _network_file(tmp_path / "short.safetensors", spec_obj)  # 4 tensors
    with pytest.raises(FileFormatError, match=rf"tensors do not match the architecture in the header: it has "
                                              rf"{weights} weight layers, the file holds 4 tensors"):
        load(path)


def test_an_invalid_architecture_with_too_few_tensors_is_still_named_invalid(tmp_path, no_build):
    path = _network_file(tmp_path / "bad.safetensors", {"family": "cnn", "widths": [1] * 8, "kernel": 0})
    with pytest.raises(FileFormatError, match="architecture in its header is invalid.*kernel"):
        load(path)


def test_a_network_of_more_layers_than_load_reads_is_not_saved(tmp_path):
    with pytest.raises(ArchError, match=r"it has 10,001 layers, and metanet\.load reads networks of at most 10,000"):
        save(nn.Sequential(*[nn.Flatten() for _ in range(10_001)]), tmp_path / "deep.safetensors")
    assert os.listdir(tmp_path) == []
    save(nn.Sequential(*[nn.Flatten() for _ in range(10_000)]), tmp_path / "ok.safetensors")  # the limit itself
    assert len(load(tmp_path / "ok.safetensors")) == 10_000


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_float8_weights_are_refused_on_load_and_save(tmp_path, dtype):
    # torch runs no float8 network on the CPU: such a file loaded, then verify said the network "does not accept
    # inputs of shape (1, 8, 8)"
    net = build(ARCH, seed=0)
    path = _network_file(tmp_path / "f8.safetensors", spec(net), {k: v.to(dtype) for k, v in net.state_dict().items()})
    want = rf"are {dtype}; network weights must be floating point: float32, float64, float16 or bfloat16"
    with pytest.raises(FileFormatError, match=want):
        load(path)
    with pytest.raises(ArchError, match=want):
        save(net.to(dtype), tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


# --- checkpoints ---------------------------------------------------------------------------------------------
def _reader_parts() -> tuple[dict, dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(shipped("reader")), framework="pt") as f:
        meta = f.metadata()
        return json.loads(meta["metanet.config"]), {k: f.get_tensor(k) for k in f.keys()}, meta


@pytest.mark.parametrize("edit", [{"layers": 300, "hidden": 1}, {"probe_inputs": [1] * 2000}],
                         ids=["layers", "probe-inputs"])
@pytest.mark.parametrize("fmt", ["safetensors", "ckpt"])
def test_a_checkpoint_config_building_thousands_of_layers_is_stopped(tmp_path, edit, fmt):
    # check_fits_memory bounds the parameters, not the layers: layers=100000 (hidden=1) or a list of 3 million probe
    # input sizes in a few MB of header built modules on the meta device for minutes before any shape was compared
    config, tensors, meta = _reader_parts()
    config.update(edit)
    if fmt == "safetensors":
        path = tmp_path / "r.safetensors"
        save_file(tensors, str(path), metadata={**meta, "metanet.config": json.dumps(config)})
    else:
        path = tmp_path / "r.ckpt"
        torch.save({"state_dict": {f"reader.{k}": v for k, v in tensors.items()}, "hyper_parameters": config}, path)
    with pytest.raises(CheckpointError, match=r"building that Reader makes far more tensors than the file's 91 "
                                              r"\(a corrupt or crafted file\)"):
        Reader.load(path)


def _writer_ckpt_bytes(extra: dict[str, torch.Tensor] | None = None) -> bytes:
    from metanet.writer.lightning import WriterModule

    m = WriterModule(hidden=8, message=4)
    buf = io.BytesIO()
    torch.save({"state_dict": {**m.state_dict(), **(extra or {})}, "hyper_parameters": dict(m.hparams)}, buf)
    return buf.getvalue()


def test_a_lightning_checkpoint_with_compressed_records_is_refused_before_unpacking(tmp_path):
    # torch.save stores its records; torch.load also inflates deflated ones in memory: 400 KB took 400 MB
    stored = zipfile.ZipFile(io.BytesIO(_writer_ckpt_bytes({"writer.pad": torch.zeros(20_000_000, dtype=torch.uint8)})))
    path = tmp_path / "bomb.ckpt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in stored.infolist():
            z.writestr(info.filename, stored.read(info.filename))
    assert path.stat().st_size < 200_000
    with pytest.raises(CheckpointError, match=r"bomb\.ckpt is not a writer Lightning checkpoint: its records .* are "
                                              r"compressed \([\d,]+ bytes that unpack to 20,0[\d,]+\), which torch\.save "
                                              r"never writes"):
        Writer.load(path)
    (tmp_path / "plain.ckpt").write_bytes(_writer_ckpt_bytes())  # as torch.save wrote it: read
    assert isinstance(Writer.load(tmp_path / "plain.ckpt"), Writer)


def test_a_lightning_checkpoint_of_other_layers_says_what_the_safetensors_one_says(tmp_path):
    path = tmp_path / "w.ckpt"
    path.write_bytes(_writer_ckpt_bytes({"writer.gate.weight": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match=r"tensors \['gate\.weight'\] are missing, unexpected or of another "
                                              r"shape; it was written by a metanet version whose Writer had other "
                                              r"layers: load it with the version that wrote it, or train a new one"):
        Writer.load(path)


@pytest.mark.parametrize("name", ["w.ckpt", "w.safetensors"])
def test_a_pipe_or_device_as_a_checkpoint_is_not_called_missing(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)  # never opened: a reader of it would wait for a writer
    for path in (fifo, Path(os.devnull)):
        with pytest.raises(CheckpointError, match=r"is not a regular file \(a device, pipe or socket\); give a writer "
                                                  r"checkpoint file"):
            Writer.load(path)
