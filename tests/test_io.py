"""`metanet.save` / `metanet.load`: bit-exact round trips, metadata, clear errors, atomic writes."""

from __future__ import annotations

import json
import os
import random

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import metanet
import metanet.io
from metanet.errors import ArchError, FileFormatError, MetadataError
from metanet.io import load, load_meta, save
from metanet.nets import build, spec


def _conv_sequential() -> nn.Sequential:
    torch.manual_seed(3)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10),
    )


# (model factory, input shape); seeds differ from from_spec's seed 0 so only loaded weights can match
MODELS = {
    "mlp": (lambda: build("mlp:784-64-10:relu", seed=7), (1, 28, 28)),
    "cnn": (lambda: build("cnn:1-16-16-10:relu:k3:s2", seed=7), (1, 28, 28)),
    "skip-mlp": (lambda: build("mlp:64-32-32-32-10:tanh:skip:nobias", seed=7), (1, 8, 8)),
    "sequential": (_conv_sequential, (1, 28, 28)),
}


@pytest.mark.parametrize("name", MODELS)
def test_round_trip_is_bit_exact(tmp_path, name):
    make, input_shape = MODELS[name]
    model = make()
    path = save(model, tmp_path / f"{name}.safetensors")
    assert path == tmp_path / f"{name}.safetensors"
    loaded = load(path)
    assert type(loaded) is type(model)
    assert spec(loaded) == spec(model)
    a, b = model.state_dict(), loaded.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
    x = torch.rand(16, *input_shape)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert not loaded.training


def test_round_trip_keeps_the_dtype(tmp_path):
    model = build("mlp:16-8-3:relu", seed=2).double()
    loaded = load(save(model, tmp_path / "f64.safetensors"))
    w = loaded.layers[0].weight
    assert w.dtype == torch.float64 and isinstance(w, nn.Parameter) and w.requires_grad
    assert torch.equal(w, model.layers[0].weight)
    x = torch.rand(4, 16, dtype=torch.float64)
    assert torch.equal(loaded(x), model(x))


def test_loaded_weights_are_independent_and_trainable(tmp_path):
    path = save(build("mlp:8-4-2", seed=1), tmp_path / "m.safetensors")
    a, b = load(path), load(path)
    with torch.no_grad():
        a.layers[0].weight.add_(1.0)
    assert not torch.equal(a.layers[0].weight, b.layers[0].weight)
    a(torch.rand(3, 8)).sum().backward()
    assert a.layers[0].weight.grad is not None


def test_metadata_round_trip(tmp_path):
    meta = {"task": "digits", "accuracy": 0.875, "tags": ["a", "b"], "nested": {"k": [1, 2.5, None, True]}}
    path = save(build("mlp:64-10", seed=0), tmp_path / "m.safetensors", **meta)
    assert load_meta(path) == meta
    assert load_meta(save(build("mlp:64-10"), tmp_path / "bare.safetensors")) == {}


def test_header_layout(tmp_path):
    model = build("cnn:1-4-3:relu", seed=0)
    path = save(model, tmp_path / "m.safetensors", task="x")
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
        keys = set(f.keys())
    assert header["metanet.format"] == metanet.io.FORMAT_VERSION
    assert json.loads(header["metanet.spec"]) == spec(model)
    assert json.loads(header["metanet.meta"]) == {"task": "x"}
    assert keys == set(model.state_dict())


_SAVE_IN_A_NEW_PROCESS = """
import sys
import metanet
from metanet.checkpoints import save_module
from metanet.nets import build
from metanet.writer import Writer
metanet.save(build("mlp:64-16-10:relu", seed=0), sys.argv[1], task="digits", acc=0.5)
import torch
torch.manual_seed(0)  # the writer's own init
save_module(Writer(), sys.argv[2], "writer", {"hidden": 32}, note="x")
"""


def test_the_same_network_saved_by_two_processes_gives_the_same_bytes(tmp_path):
    # safetensors writes its metadata map in a per-process random order: the same network saved twice had two
    # sha256s (the three header keys in one of six orders), so files could not be compared or deduplicated by hash
    import subprocess
    import sys

    runs = []
    for i in range(4):
        net, ckpt = tmp_path / f"net{i}.safetensors", tmp_path / f"writer{i}.safetensors"
        subprocess.run([sys.executable, "-c", _SAVE_IN_A_NEW_PROCESS, str(net), str(ckpt)], check=True)
        runs.append((net.read_bytes(), ckpt.read_bytes()))
    assert all(r == runs[0] for r in runs[1:])
    raw = runs[0][0]
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    assert list(header["__metadata__"]) == ["metanet.format", "metanet.meta", "metanet.spec"]  # sorted
    assert load_meta(tmp_path / "net0.safetensors") == {"task": "digits", "acc": 0.5}
    assert torch.equal(load(tmp_path / "net0.safetensors").layers[0].weight, build("mlp:64-16-10:relu").layers[0].weight)


def test_top_level_names():
    assert metanet.save is save and metanet.load is load and metanet.load_meta is load_meta


def test_save_overwrites(tmp_path):
    path = tmp_path / "m.safetensors"
    save(build("mlp:8-4-2", seed=1), path, v=1)
    save(build("mlp:8-4-2", seed=2), path, v=2)
    assert load_meta(path) == {"v": 2}
    assert torch.equal(load(path).layers[0].weight, build("mlp:8-4-2", seed=2).layers[0].weight)


def test_save_creates_parent_folders(tmp_path):
    path = save(build("mlp:8-2"), tmp_path / "a" / "b" / "m.safetensors")
    assert path.is_file()


# --- errors ------------------------------------------------------------------------------------------
def _saved_bytes(tmp_path) -> bytes:
    return save(build("mlp:64-32-10", seed=0), tmp_path / "good.safetensors").read_bytes()


@pytest.mark.parametrize("fn", [load, load_meta])
def test_random_bytes(tmp_path, fn):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(random.Random(0).randbytes(4096))
    with pytest.raises(FileFormatError, match="is not a readable safetensors file") as info:
        fn(path)
    assert str(path) in str(info.value)


def test_a_pytorch_pickle_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "net.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(FileFormatError, match=r"never unpickles a PyTorch \.pt/\.pth file: load one yourself"):
        load(path)


@pytest.mark.parametrize("fn", [load, load_meta])
@pytest.mark.parametrize(
    "cut", [lambda n: 0, lambda n: 5, lambda n: 100, lambda n: n // 2, lambda n: n - 1],
    ids=["empty", "5-bytes", "inside-header", "half", "last-byte-missing"],
)
def test_truncated_file(tmp_path, fn, cut):
    data = _saved_bytes(tmp_path)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[: cut(len(data))])
    with pytest.raises(FileFormatError, match="is not a readable safetensors file") as info:
        fn(path)
    assert str(path) in str(info.value)


def test_safetensors_without_metanet_header(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"layers.0.weight": torch.zeros(10, 64), "layers.0.bias": torch.zeros(10)}, str(path))
    with pytest.raises(FileFormatError, match="without a metanet architecture header") as info:
        load(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.safetensors"
    for fn in (load, load_meta):
        with pytest.raises(FileFormatError, match="no such file") as info:
            fn(path)
        assert str(path) in str(info.value)
        with pytest.raises(FileFormatError, match="is a directory, not a file; give a network saved with"):
            fn(tmp_path)


def test_tensors_that_do_not_fit_the_header(tmp_path):
    path = tmp_path / "mismatch.safetensors"
    header = {"metanet.format": "1", "metanet.spec": json.dumps(spec(build("mlp:64-32-10"))), "metanet.meta": "{}"}
    tensors = {k: v.contiguous() for k, v in build("mlp:64-16-10").state_dict().items()}
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(FileFormatError, match="do not match the architecture"):
        load(path)


@pytest.mark.parametrize(
    "spec_text",
    ["{not json", json.dumps({"family": "rnn"}),
     # sizes torch cannot hold: the module build raised a raw TypeError / RuntimeError
     json.dumps({"family": "mlp", "widths": [10**20, 10]}),
     json.dumps({"family": "cnn", "widths": [1, 4, 10], "kernel": 2**40})],
)
def test_invalid_architecture_header(tmp_path, spec_text):
    path = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"metanet.spec": spec_text})
    with pytest.raises(FileFormatError, match="architecture in its header is invalid"):
        load(path)


def test_corrupt_metadata(tmp_path):
    path = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"metanet.meta": "{oops"})
    with pytest.raises(FileFormatError, match="corrupt metadata"):
        load_meta(path)


@pytest.mark.parametrize("meta_text", ["[1, 2]", "3", "null", '"task"'])
def test_metadata_that_is_not_a_mapping(tmp_path, meta_text):
    # save() always writes a mapping; callers do load_meta(path).get("task"): valid JSON of another type is corrupt
    path = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"metanet.meta": meta_text})
    with pytest.raises(FileFormatError, match="corrupt metadata.*not a mapping"):
        load_meta(path)


def test_errors_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="nowhere.safetensors: no such file") as e:
        load(tmp_path / "nowhere.safetensors")
    assert isinstance(e.value, FileFormatError)


# --- atomic writes -----------------------------------------------------------------------------------
def test_save_leaves_no_temporary_files(tmp_path):
    save(build("mlp:64-10"), tmp_path / "m.safetensors", note="x")
    assert os.listdir(tmp_path) == ["m.safetensors"]


def _surgery_on_layer_1():
    m = build("mlp:8-4-2", seed=0)
    m.layers[1] = nn.Linear(4, 3)  # m.arch still says 2 classes
    return m


def _extra_buffer():
    m = build("mlp:8-4-2", seed=0)
    m.register_buffer("extra", torch.zeros(3))
    return m


def _mixed_dtypes():
    m = build("mlp:8-4-2", seed=0)
    m.layers[0].bias.data = m.layers[0].bias.data.double()
    return m


@pytest.mark.parametrize(
    "make, fragment",
    [(_surgery_on_layer_1, "layers.1.bias has shape [3], the architecture needs [2]"),
     (_extra_buffer, "unexpected ['extra']"),
     (_mixed_dtypes, "one dtype")],
    ids=["replaced-layer", "extra-buffer", "mixed-dtypes"],
)
def test_save_refuses_what_load_would_refuse(tmp_path, make, fragment):
    # such files were written, then load() refused them: fail at save time, and write nothing
    with pytest.raises(ArchError) as info:
        save(make(), tmp_path / "m.safetensors")
    assert fragment in str(info.value)
    assert os.listdir(tmp_path) == []


def test_failed_save_creates_nothing(tmp_path):
    # MetadataError is also a TypeError (as documented); a raw TypeError from json.dumps must not pass for it
    with pytest.raises(MetadataError, match="metadata 'bad' is a object, which JSON cannot hold"):
        save(build("mlp:64-10"), tmp_path / "m.safetensors", bad=object())
    with pytest.raises(ArchError, match=r"layer 0 \(BatchNorm1d.*is not supported"):
        save(nn.Sequential(nn.BatchNorm1d(3)), tmp_path / "bn.safetensors")
    assert os.listdir(tmp_path) == []


def test_failure_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    old = build("mlp:8-4-2", seed=1)
    save(old, path, version=1)
    before = path.read_bytes()

    def half_write(self, data):  # the temporary file's bytes, cut short
        with open(self, "wb") as f:
            f.write(data[:17])
        raise OSError("disk full")

    monkeypatch.setattr(metanet.io.Path, "write_bytes", half_write)
    with pytest.raises(OSError, match="disk full"):
        save(build("mlp:8-4-2", seed=2), path, version=2)
    with pytest.raises(OSError, match="disk full"):
        save(build("mlp:8-4-2", seed=2), tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert path.read_bytes() == before
    assert load_meta(path) == {"version": 1}
    assert torch.equal(load(path).layers[0].weight, old.layers[0].weight)


def test_saved_files_get_the_mode_of_a_plain_open(tmp_path):
    import stat

    umask = os.umask(0o022)
    try:
        path = metanet.save(build("mlp:4-3-2:relu"), tmp_path / "n.safetensors")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_sequential_with_named_layers_round_trips(tmp_path):
    # saving must not write a file that load() then refuses
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(8, 4)), ("act", nn.ReLU()), ("fc2", nn.Linear(4, 3))]))
    loaded = load(save(model, tmp_path / "named.safetensors"))
    assert list(loaded.state_dict()) == list(model.state_dict())
    x = torch.rand(2, 8)
    assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("version", ["2", "0", "1.5", ""])
def test_unknown_format_version_is_refused(tmp_path, version):
    # the header's format version exists so that a file of another format is refused, not misread
    path = tmp_path / "future.safetensors"
    model = build("mlp:8-4-2", seed=1)
    header = {"metanet.format": version, "metanet.spec": json.dumps(spec(model)), "metanet.meta": "{}"}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=header)
    with pytest.raises(FileFormatError, match=f"format version {version!r}.*supported: '1'") as info:
        load(path)
    assert str(path) in str(info.value)


def test_tensors_of_mixed_dtypes_are_refused(tmp_path):
    # no network runs with a float64 bias next to float32 weights: refuse the file instead of failing at forward
    path = tmp_path / "mixed.safetensors"
    model = build("mlp:8-4-2", seed=1)
    header = {"metanet.format": "1", "metanet.spec": json.dumps(spec(model)), "metanet.meta": "{}"}
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    tensors["layers.0.bias"] = tensors["layers.0.bias"].double()
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(FileFormatError, match=r"one dtype.*layers.0.bias is torch.float64"):
        load(path)


def test_save_to_a_directory_names_the_directory(tmp_path):
    # the error used to name the temporary file ('.x.abc.tmp' -> 'x'), which no longer exists
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        save(build("mlp:8-2"), tmp_path / "sub")
    assert info.value.filename == str(tmp_path / "sub") and ".tmp" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["sub"] and os.listdir(tmp_path / "sub") == []
