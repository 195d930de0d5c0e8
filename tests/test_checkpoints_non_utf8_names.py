"""Reader and writer checkpoints under file names that are not valid UTF-8 (a legacy encoding, e.g. Latin-1):
save_module wrote them, as any open() does, but Reader.load / Writer.load refused them, since safetensors takes UTF-8
names only ("Path ... is not valid UTF-8")."""

from __future__ import annotations

import os

import torch
from torch import nn

from path_helpers import non_utf8_path

from metanet.checkpoints import load_module, save_module


class _Head(nn.Module):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.lin = nn.Linear(2, width)


def test_a_checkpoint_saved_under_a_non_utf8_name_loads(tmp_path):
    path = non_utf8_path(tmp_path, b"reader-caf\xe9.safetensors")
    torch.manual_seed(0)
    head = _Head(width=4)
    save_module(head, path, "reader", {"width": 4})
    back = load_module(_Head, path, "reader")
    assert back.lin.out_features == 4 and torch.equal(back.lin.weight, head.lin.weight)
    assert os.listdir(tmp_path) == [os.fsdecode(b"reader-caf\xe9.safetensors")]
