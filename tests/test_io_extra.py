"""More of `metanet.save` / `load` / `load_meta` and the checkpoint files: metadata JSON cannot hold as it is, paths
(``~``, symbolic links, a file as a parent), and Lightning checkpoints asking for huge models."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from torch import nn

from metanet.checkpoints import load_lightning, load_module, save_module
from metanet.errors import CheckpointError, ConfigError, MetanetError
from metanet.io import load, load_meta, save
from metanet.nets import build


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


class _Probe(nn.Module):
    built: list[str] = []

    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.lin = nn.Linear(n, n)
        _Probe.built.append(self.lin.weight.device.type)


def test_lightning_checkpoint_shapes_are_checked_before_allocating(tmp_path):
    # hyperparameters asking for a huge model were built with real memory before the weights were compared
    path = tmp_path / "huge.ckpt"
    torch.save({"hyper_parameters": {"n": 30_000}, "state_dict": {"net.lin.weight": torch.zeros(2, 2),
                                                                  "net.lin.bias": torch.zeros(2)}}, path)
    _Probe.built.clear()
    with pytest.raises(CheckpointError, match=r"do not match _Probe.*lin.bias"):
        load_lightning(_Probe, path, "probe", "net", ("n",))
    assert _Probe.built == ["meta"]


def test_lightning_and_safetensors_checkpoints_round_trip_with_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    probe = _Probe(3)
    torch.save({"hyper_parameters": {"n": 3}, "state_dict": {f"net.{k}": v for k, v in probe.state_dict().items()}},
               tmp_path / "p.ckpt")
    loaded = load_lightning(_Probe, "~/p.ckpt", "probe", "net", ("n",))
    assert torch.equal(loaded.lin.weight, probe.lin.weight)
    path = save_module(probe, "~/p.safetensors", "probe", {"n": 3}, score=np.float32(0.5), bad=float("nan"))
    assert path == tmp_path / "p.safetensors"
    assert torch.equal(load_module(_Probe, "~/p.safetensors", "probe").lin.bias, probe.lin.bias)
    assert load_meta(path) == {"score": 0.5, "bad": None}


def test_save_module_refuses_metadata_json_cannot_hold(tmp_path):
    with pytest.raises(MetanetError, match="'x'"):
        save_module(_Probe(), tmp_path / "p.safetensors", "probe", {"n": 2}, x=object())
    assert os.listdir(tmp_path) == []
