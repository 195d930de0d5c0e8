"""A reader or writer checkpoint whose tensors cannot be the model's values: NaN or infinite weights (a diverged run),
floating-point weights stored as booleans or integers, integer buffers stored as floats. ``load_state_dict`` cast
them silently: a writer of NaN weights failed inside generate with scipy's raw "matrix contains invalid numeric
entries", a reader of 0/1 weights with a raw OverflowError in read(), and a writer of int8-rounded weights wrote
other networks without a word. ``Reader.load`` / ``Writer.load`` (and their Lightning .ckpt form) refuse them,
naming the file and the tensors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from metanet.checkpoints import shipped
from metanet.errors import CheckpointError
from metanet.reader import Reader
from metanet.writer import Writer


def _shipped_with(kind: str, path: Path, edit) -> Path:
    with safe_open(str(shipped(kind)), "pt") as f:
        tensors = {k: edit(k, f.get_tensor(k)) for k in f.keys()}
        meta = f.metadata()
    save_file(tensors, str(path), metadata=meta)
    return path


def _first_float(kind: str) -> str:
    with safe_open(str(shipped(kind)), "pt") as f:
        return next(k for k in sorted(f.keys()) if f.get_slice(k).get_dtype().startswith("F"))


@pytest.mark.parametrize("kind, cls", [("writer", Writer), ("reader", Reader)])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_checkpoint_with_non_finite_weights_is_refused(tmp_path, kind, cls, value):
    bad = _first_float(kind)
    path = _shipped_with(kind, tmp_path / "diverged.safetensors",
                         lambda k, t: t.clone().fill_(value) if k == bad else t)
    with pytest.raises(CheckpointError, match=rf"diverged\.safetensors: tensors \['{bad}'\] hold NaN or infinite"):
        cls.load(path)


@pytest.mark.parametrize("kind, cls", [("writer", Writer), ("reader", Reader)])
@pytest.mark.parametrize("dtype", [torch.bool, torch.int8])
def test_floating_point_weights_stored_as_integers_or_booleans_are_refused(tmp_path, kind, cls, dtype):
    path = _shipped_with(kind, tmp_path / "cast.safetensors",
                         lambda k, t: t.to(dtype) if t.is_floating_point() else t)
    with pytest.raises(CheckpointError, match=rf"cast\.safetensors: tensors .* are {dtype}, where the {cls.__name__} "
                                              "holds floating-point values"):
        cls.load(path)


def test_an_integer_buffer_stored_as_floats_is_refused(tmp_path):
    path = _shipped_with("reader", tmp_path / "r.safetensors",
                         lambda k, t: t.float() if t.dtype == torch.int64 else t)
    with pytest.raises(CheckpointError, match=r"tensors \['dprobe_n', 'dprobe_y'\] are torch\.float32, where the "
                                              r"Reader holds integer values"):
        Reader.load(path)


def test_a_lightning_checkpoint_with_nan_weights_is_refused(tmp_path):
    from metanet.writer.lightning import WriterModule

    m = WriterModule(hidden=8, message=4)
    state = m.state_dict()
    first = next(k for k in sorted(state) if k.startswith("writer.") and state[k].is_floating_point())
    state[first] = torch.full_like(state[first], float("nan"))
    torch.save({"state_dict": state, "hyper_parameters": dict(m.hparams), "epoch": 0}, tmp_path / "last.ckpt")
    with pytest.raises(CheckpointError, match=r"last\.ckpt: tensors .* hold NaN or infinite"):
        Writer.load(tmp_path / "last.ckpt")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_weights_of_another_floating_point_precision_still_load(tmp_path, dtype):
    path = _shipped_with("writer", tmp_path / "w.safetensors",
                         lambda k, t: t.to(dtype) if t.is_floating_point() else t)
    w = Writer.load(path)
    assert all(p.dtype == torch.float32 for p in w.parameters())
