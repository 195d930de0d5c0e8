"""metanet.load of a file whose tensors have other shapes than the architecture in its header: refused from the
shapes alone (the header's architecture named, the tensor and both shapes given), before any tensor is read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from safetensors.torch import save_file

import metanet.io as io_mod
from metanet.errors import FileFormatError
from metanet.io import load
from metanet.nets import build, spec


class _Counting:
    """A safe_open handle that counts the tensors read through it."""

    def __init__(self, f: Any, reads: list[str]) -> None:
        self._f, self._reads = f, reads

    def __enter__(self) -> _Counting:
        self._f.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._f.__exit__(*exc)

    def get_tensor(self, k: str) -> Any:
        self._reads.append(k)
        return self._f.get_tensor(k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def test_tensors_of_other_shapes_are_refused_before_any_is_read(tmp_path, monkeypatch):
    path = tmp_path / "mismatch.safetensors"
    header = {"metanet.format": "1", "metanet.spec": json.dumps(spec(build("mlp:64-32-10"))), "metanet.meta": "{}"}
    tensors = {k: v.contiguous() for k, v in build("mlp:64-16-10").state_dict().items()}
    save_file(tensors, str(path), metadata=header)
    real = io_mod.safe_open
    reads: list[str] = []
    monkeypatch.setattr(io_mod, "safe_open", lambda *a, **kw: _Counting(real(*a, **kw), reads))
    with pytest.raises(FileFormatError) as info:
        load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: tensors do not match the architecture in the header: "), msg
    key = min(k for k in tensors if tuple(tensors[k].shape) != tuple(build("mlp:64-32-10").state_dict()[k].shape))
    want = list(build("mlp:64-32-10").state_dict()[key].shape)
    assert msg.endswith(f"{key} has shape {list(tensors[key].shape)}, the architecture needs {want}"), msg
    assert reads == []  # the shapes in the file's index decide: no tensor's bytes are read


def test_tensors_of_the_header_shapes_are_read_through_the_same_handle(tmp_path, monkeypatch):
    # the counting handle itself works: a matching file reads every tensor through it
    path = tmp_path / "ok.safetensors"
    net = build("mlp:64-32-10")
    io_mod.save(net, path)
    real = io_mod.safe_open
    reads: list[str] = []
    monkeypatch.setattr(io_mod, "safe_open", lambda *a, **kw: _Counting(real(*a, **kw), reads))
    model = load(path)
    assert sorted(reads) == sorted(net.state_dict()) == sorted(model.state_dict())
