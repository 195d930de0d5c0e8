"""Reader and writer checkpoints under file names that are not valid UTF-8 (a legacy encoding, e.g. Latin-1):
save_module wrote them, as any open() does, but Reader.load / Writer.load refused them, since safetensors takes UTF-8
names only ("Path ... is not valid UTF-8")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch import nn

from metanet.checkpoints import load_module, save_module


class _Head(nn.Module):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.lin = nn.Linear(2, width)


def _non_utf8(folder: Path, name: bytes) -> Path:
    path = Path(os.fsdecode(os.fsencode(folder) + b"/" + name))
    try:
        path.touch()
        path.unlink()
    except (OSError, UnicodeError):  # e.g. macOS (APFS takes UTF-8 names only)
        pytest.skip("this file system refuses names that are not UTF-8")
    return path


def test_a_checkpoint_saved_under_a_non_utf8_name_loads(tmp_path):
    path = _non_utf8(tmp_path, b"reader-caf\xe9.safetensors")
    torch.manual_seed(0)
    head = _Head(width=4)
    save_module(head, path, "reader", {"width": 4})
    back = load_module(_Head, path, "reader")
    assert back.lin.out_features == 4 and torch.equal(back.lin.weight, head.lin.weight)
    assert os.listdir(tmp_path) == [os.fsdecode(b"reader-caf\xe9.safetensors")]
