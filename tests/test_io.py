"""`metanet.save` / `metanet.load` / `metanet.load_meta`: bit-exact round trips, metadata (including what JSON cannot
hold as it is, non-ASCII and headers too large), clear errors, atomic writes; file permissions on overwrite and the
process umask during a save (threads); paths (``~``, symbolic links, a file as a parent, empty paths, devices and
pipes); and what save / load accept and what their errors say (zoo shards, checkpoints, ``metanet.generate``'s
result, graphs, arguments in the wrong order).
"""

from __future__ import annotations

import json
import os
import random
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from generated_helpers import ARCH, fake_generated

import metanet
import metanet.io
from metanet import io
from metanet.cli import main
from metanet.errors import ArchError, ConfigError, FileFormatError, MetadataError
from metanet.graph import to_graph
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
import torch
for net, ckpt in zip(sys.argv[1::2], sys.argv[2::2]):  # pairs of paths: the same two files saved again
    metanet.save(build("mlp:64-16-10:relu", seed=0), net, task="digits", acc=0.5)
    torch.manual_seed(0)  # the writer's own init
    save_module(Writer(), ckpt, "writer", {"hidden": 32}, note="x")
"""


def test_the_same_network_saved_by_two_processes_gives_the_same_bytes(tmp_path):
    # safetensors writes its metadata map in a per-process random order: the same network saved twice had two
    # sha256s (the three header keys in one of six orders), so files could not be compared or deduplicated by hash
    import subprocess
    import sys

    paths = [(tmp_path / f"net{i}.safetensors", tmp_path / f"writer{i}.safetensors") for i in range(6)]
    # two processes at once (each mostly imports torch), each saving both files three times: the map's order is
    # drawn anew for every save (a new Rust HashMap each time), so without the fix the six copies agree and are
    # sorted with probability about 6**-6; four one-save processes gave 6**-4 in twice the CPU time
    procs = [subprocess.Popen([sys.executable, "-c", _SAVE_IN_A_NEW_PROCESS,
                               *[str(f) for pair in paths[i::2] for f in pair]]) for i in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0
    runs = [(net.read_bytes(), ckpt.read_bytes()) for net, ckpt in paths]
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


def _header_meta(path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return f.metadata()["metanet.meta"]


def test_non_finite_metadata_is_stored_as_strict_json(tmp_path):
    # json.dumps wrote NaN / Infinity: not JSON, so any other tool reading the header failed
    path = save(build("mlp:4-2"), tmp_path / "m.safetensors", acc=float("nan"), loss=[1.0, float("inf")],
                nested={"x": float("-inf")})
    text = _header_meta(path)
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert load_meta(path) == {"acc": None, "loss": [1.0, None], "nested": {"x": None}}


def test_numpy_and_tensor_numbers_are_stored_as_numbers(tmp_path):
    # an accuracy computed with numpy or torch (.mean()) was a TypeError naming no key
    meta = {"acc": np.float32(0.5), "n": np.int64(7), "ok": np.bool_(True), "t": torch.tensor(0.25),
            "steps": [torch.tensor(3), np.float64(1.5)]}
    path = save(build("mlp:4-2"), tmp_path / "m.safetensors", **meta)
    assert load_meta(path) == {"acc": 0.5, "n": 7, "ok": True, "t": 0.25, "steps": [3, 1.5]}


@pytest.mark.parametrize("value, where", [
    (object(), "'bad'"), ({"p": __import__("pathlib").Path("/x")}, r"'bad'\['p'\]"), ([1, torch.zeros(2)], r"'bad'\[1\]"),
    ({(1, 2): 3}, "keys"),
])
def test_metadata_json_cannot_hold_is_named_and_nothing_is_written(tmp_path, value, where):
    with pytest.raises(ConfigError, match=where) as info:
        save(build("mlp:4-2"), tmp_path / "m.safetensors", bad=value)
    assert isinstance(info.value, TypeError)  # as save() documented
    assert os.listdir(tmp_path) == []


def test_circular_metadata_is_a_clear_error(tmp_path):
    loop: list = []
    loop.append(loop)
    with pytest.raises(ConfigError, match="circular"):
        save(build("mlp:4-2"), tmp_path / "m.safetensors", history=loop)
    assert os.listdir(tmp_path) == []


def test_unicode_and_huge_metadata_round_trip(tmp_path):
    meta = {"name": "réseau ✓ 😀 \x00", "blob": "x" * 1_000_000, "ключ": {"ü": [None, True, 1e308]}}
    assert load_meta(save(build("mlp:4-2"), tmp_path / "ü n.safetensors", **meta)) == meta


def test_tilde_is_the_home_folder(tmp_path, monkeypatch):
    # save('~/m.safetensors') created a folder named '~' in the working directory
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    model = build("mlp:4-3-2", seed=1)
    path = save(model, "~/nets/m.safetensors", run=1)
    assert path == tmp_path / "home" / "nets" / "m.safetensors" and path.is_file()
    assert not (tmp_path / "~").exists()
    assert load_meta("~/nets/m.safetensors") == {"run": 1}
    assert torch.equal(load("~/nets/m.safetensors").layers[0].weight, model.layers[0].weight)


def test_saving_to_a_symlink_writes_through_it(tmp_path):
    # os.replace replaced the link by a regular file, leaving the file it pointed to stale
    (tmp_path / "runs").mkdir()
    target = save(build("mlp:4-2", seed=1), tmp_path / "runs" / "best.safetensors", run=1)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)
    assert save(build("mlp:4-2", seed=2), link, run=2) == link
    assert link.is_symlink() and load_meta(target) == {"run": 2} == load_meta(link)
    assert sorted(os.listdir(tmp_path / "runs")) == ["best.safetensors"]  # no temporary left beside the target


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "m.safetensors"
    link.symlink_to(tmp_path / "real.safetensors")
    save(build("mlp:4-2"), link)
    assert link.is_symlink() and (tmp_path / "real.safetensors").is_file() and load(link) is not None


def test_a_file_as_parent_folder_is_named_as_such(tmp_path):
    # mkdir said 'File exists', as if nothing were wrong
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(NotADirectoryError, match="is a file, not a directory") as info:
        save(build("mlp:4-2"), tmp_path / "notes.txt" / "m.safetensors")
    assert info.value.filename == str(tmp_path / "notes.txt")


def test_save_bytes_are_deterministic_and_independent_of_the_path(tmp_path):
    model = build("cnn:1-4-3:relu:k3:s1", seed=3).double()
    a = save(model, tmp_path / "a.safetensors", acc=np.float64(0.5)).read_bytes()
    b = save(model, tmp_path / "sub dir" / "b c.safetensors", acc=0.5).read_bytes()
    assert a == b


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_overwriting_keeps_the_files_permissions(tmp_path):
    # a private 0600 file became 0644 (world-readable) on every save over it; open(path, "w") keeps the mode
    p = tmp_path / "net.safetensors"
    io.save(_net(), p)
    os.chmod(p, 0o600)
    io.save(_net(), p, note="again")
    assert _mode(p) == 0o600
    assert io.load_meta(p) == {"note": "again"}
    os.chmod(p, 0o640)
    io.atomic_write(p, lambda tmp: Path(tmp).write_bytes(b"x"))
    assert _mode(p) == 0o640 and p.read_bytes() == b"x"


def test_overwriting_through_a_symlink_keeps_the_targets_permissions(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    io.atomic_write(link, lambda tmp: Path(tmp).write_text("new"))
    assert link.is_symlink() and target.read_text() == "new" and _mode(target) == 0o600


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        p = io.save(_net(), tmp_path / "new.safetensors")
    finally:
        os.umask(umask)
    assert _mode(p) == 0o644


def test_metadata_too_large_for_a_header_is_a_metadata_error(tmp_path):
    # a raw safetensors 'SafetensorError: Error while serializing: header too large' before
    p = tmp_path / "big.safetensors"
    io.save(_net(), p, note="old")
    with pytest.raises(MetadataError, match="100,000,000 bytes") as e:
        io.save(_net(), p, blob="x" * 100_000_000)
    assert isinstance(e.value, TypeError)  # MetadataError's documented base
    assert io.load_meta(p) == {"note": "old"}  # the old file is untouched, nothing else left behind
    assert sorted(q.name for q in tmp_path.iterdir()) == ["big.safetensors"]


def test_non_ascii_metadata_and_paths_round_trip(tmp_path, monkeypatch):
    folder = tmp_path / "dossier é ✓" / "sub dir"
    meta = {"note": "héllo ✓ 日本", "ключ": {"ü": [1, 2.5, None, True]}, "nul": "a\x00b"}
    m = _net()
    p = io.save(m, folder / "réseau 1.safetensors", **meta)
    assert io.load_meta(p) == meta
    got = io.load(p)
    assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(), m.state_dict().values()))
    monkeypatch.chdir(folder)  # a relative path, as str and as bytes
    assert io.load_meta("réseau 1.safetensors") == meta
    assert io.load_meta(os.fsencode("réseau 1.safetensors")) == meta


def test_a_pickle_is_refused_without_unpickling(tmp_path):
    p = tmp_path / "net.pt"
    torch.save(_net(), p)
    with pytest.raises(FileFormatError, match="never unpickles"):
        io.load(p)
    with pytest.raises(FileFormatError, match="never unpickles"):
        io.load_meta(p)


# --- files that are not regular files -----------------------------------------------------------------------
def test_a_device_or_a_pipe_is_not_reported_as_missing(tmp_path):
    # /dev/null and a FIFO exist: "no such file" sent the user looking for a typo
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in ("/dev/null", fifo):
        for fn in (io.load, io.load_meta):
            with pytest.raises(FileFormatError, match="is not a regular file") as info:
                fn(path)
            assert str(path) in str(info.value) and "no such file" not in str(info.value)


def test_a_broken_link_and_a_path_under_a_file_say_why_there_is_no_file(tmp_path):
    link = tmp_path / "net.safetensors"
    link.symlink_to(tmp_path / "gone.safetensors")
    with pytest.raises(FileFormatError, match=r"broken symbolic link \(to .*gone.safetensors\)"):
        io.load(link)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(FileFormatError, match=r"no such file \(.*plain.txt is a file, not a directory\)"):
        io.load(plain / "net.safetensors")
    with pytest.raises(FileFormatError, match=r"nowhere.safetensors: no such file; give a network"):
        io.load(tmp_path / "nowhere.safetensors")


def test_cli_graph_of_dev_null_says_what_it_is(capsys):
    assert main(["graph", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "/dev/null: is not a regular file" in err and "no such file" not in err


# --- safetensors files that hold something else than one network -------------------------------------------
def test_loading_a_zoo_shard_points_to_the_zoo(tiny_zoo):
    shard = sorted((tiny_zoo / "shards").glob("*.safetensors"))[0]
    zoo = metanet.Zoo(tiny_zoo)
    ids = sorted(n.id for n in zoo if Path(n.shard).name == shard.name)
    assert ids
    with pytest.raises(FileFormatError, match="is a zoo shard holding") as info:
        io.load(shard)
    msg = str(info.value)
    assert f"metanet.Zoo({str(tiny_zoo)!r}).load(id)" in msg and "without a metanet architecture" not in msg
    assert f"{len(ids)} networks (ids {ids[0]}, " in msg and f"{ids[-1]})" in msg


def test_a_shard_outside_its_zoo_still_says_what_it_is(tiny_zoo, tmp_path):
    shard = sorted((tiny_zoo / "shards").glob("*.safetensors"))[0]
    copy = tmp_path / "copied.safetensors"
    copy.write_bytes(shard.read_bytes())
    with pytest.raises(FileFormatError, match=r"is a zoo shard holding .*metanet.Zoo\('ZOO_DIR'\).load\(id\)"):
        io.load(copy)


def test_loading_a_writer_or_reader_checkpoint_names_its_loader():
    from metanet import checkpoints

    here = Path(checkpoints.__file__).parent
    for kind in ("writer", "reader"):
        with pytest.raises(FileFormatError, match=rf"is a metanet {kind} checkpoint, not a network; load it with "
                                                  rf"metanet.{kind.capitalize()}.load\(path\)"):
            io.load(here / f"{kind}.safetensors")


# --- what save() accepts ------------------------------------------------------------------------------------
def test_save_of_a_generated_network_is_what_its_save_writes(tmp_path):
    # metanet.verify took metanet.generate's result, metanet.save refused it ("unsupported module Generated")
    g = fake_generated()
    a = io.save(g, tmp_path / "a.safetensors")
    b = g.save(tmp_path / "b.safetensors")
    assert a.read_bytes() == b.read_bytes()
    assert io.load_meta(a)["test_accuracy"] == 0.75 and io.load_meta(a)["candidate"] == 1
    loaded = io.load(a)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in g.model.state_dict().items())
    assert metanet.save(g, tmp_path / "c.safetensors").read_bytes() == b.read_bytes()


def test_save_of_a_generated_network_with_metadata_of_its_own_is_refused(tmp_path):
    g = fake_generated()
    out = tmp_path / "g.safetensors"
    with pytest.raises(MetadataError, match=r"generation report.*metanet.save\(g.model, path, \*\*meta\)"):
        io.save(g, out, note="mine")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_save_of_a_graph_saves_the_network_it_encodes(tmp_path):
    m = build(ARCH, seed=3)
    a = io.save(to_graph(m), tmp_path / "a.safetensors", note="x")
    b = io.save(m, tmp_path / "b.safetensors", note="x")
    assert a.read_bytes() == b.read_bytes()


def test_save_with_the_path_first_says_the_order(tmp_path):
    m = build(ARCH, seed=0)
    src = io.save(m, tmp_path / "src.safetensors")
    for given in (str(src), src):
        with pytest.raises(ArchError, match=r"takes the network first, then the path: save\(model, path"):
            io.save(given, tmp_path / "dst.safetensors")
    assert not (tmp_path / "dst.safetensors").exists()


def _unseeded_net() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


@pytest.mark.parametrize("path", ["", "   ", b""])
def test_an_empty_or_blank_path_is_named_and_nothing_is_written(tmp_path, monkeypatch, path):
    # '' said "'.': is a directory" (a path never given); '   ' wrote a file named by spaces that load() refused
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileFormatError, match="path to write is empty"):
        save(_unseeded_net(), path)
    assert os.listdir(tmp_path) == []


def test_a_reader_checkpoint_to_an_empty_path_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileFormatError, match="path to write is empty"):
        metanet.Reader.load().save("")
    assert os.listdir(tmp_path) == []


def test_a_save_never_sets_the_process_umask_to_zero(tmp_path, monkeypatch):
    # reading the umask (os.umask(0), then back) left every other thread of the process a umask of 0 for a moment:
    # a file or folder created then was world-writable
    seen = []
    real = os.umask

    def spy(mask):
        seen.append(mask)
        return real(mask)

    monkeypatch.setattr(os, "umask", spy)
    save(_unseeded_net(), tmp_path / "new.safetensors")
    assert 0 not in seen
    assert load(tmp_path / "new.safetensors") is not None


def test_a_new_file_still_gets_the_mode_of_a_plain_open_under_another_umask(tmp_path):
    old = os.umask(0o027)
    try:
        save(_unseeded_net(), tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o640


def test_saves_from_threads_to_one_path_leave_one_complete_file(tmp_path):
    target = tmp_path / "same.safetensors"
    nets = [nn.Sequential(nn.Flatten(), nn.Linear(4, 2 + i % 3)) for i in range(8)]
    errors = []

    def run(n):
        try:
            save(n, target, who=id(n))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    back = load(target)
    assert back[1].out_features in (2, 3, 4)
    assert os.listdir(tmp_path) == ["same.safetensors"]


def test_a_network_file_the_user_may_not_read_names_the_permission(tmp_path, monkeypatch):
    # safetensors reports a file it may not open as "No such file or directory"; the error then told the user the
    # file was not a readable safetensors file. (tests/test_permissions.py checks this as a real unprivileged user)
    import metanet.io as io_mod
    from metanet.errors import FileFormatError
    from metanet.io import load, save
    from metanet.nets import build

    path = tmp_path / "net.safetensors"
    save(build("mlp:4-3-2:relu"), path)
    real = os.open

    def refuse(p, flags, *a, **k):
        if os.fspath(p) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(p, flags, *a, **k)

    monkeypatch.setattr(io_mod.os, "open", refuse)
    with pytest.raises(FileFormatError, match=r"cannot be read \(Permission denied\).*ask its owner"):
        load(path)
