"""Files whose names are not valid UTF-8 (a name in a legacy encoding, such as Latin-1 'net\\xe9'): metanet.save
wrote them, as any open() does, but load and load_meta refused them, since safetensors takes UTF-8 names only
("not a readable safetensors file (Path ... is not valid UTF-8)"); so did `metanet verify` of `generate --out`'s file."""

from __future__ import annotations

import os
import re

import pytest
import torch

from path_helpers import non_utf8_path

import metanet
from metanet.nets import build


def test_a_network_saved_under_a_non_utf8_name_loads(tmp_path):
    path = non_utf8_path(tmp_path, b"caf\xe9.safetensors")
    model = build("mlp:4-3-2", seed=1)
    metanet.save(model, path, task="digits")
    back = metanet.load(path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))
    assert metanet.load_meta(path) == {"task": "digits"}
    assert os.listdir(tmp_path) == [os.fsdecode(b"caf\xe9.safetensors")]  # nothing else opened or made


def test_an_unreadable_file_under_a_non_utf8_name_is_named_as_before(tmp_path):
    path = non_utf8_path(tmp_path, b"bad\xff.safetensors")
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(metanet.FileFormatError, match=re.escape(f"{path} is not a readable safetensors file (Error "
                                                                "while deserializing header")) as info:
        metanet.load(path)
    assert "UTF-8" not in str(info.value)  # the file's own problem, not its name's
