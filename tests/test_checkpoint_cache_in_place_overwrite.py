"""A shipped checkpoint overwritten IN PLACE (``cp new.safetensors .../reader.safetensors`` keeps the file's inode, and a
retrained reader of the same configuration has the same size) is read again: the cache key's modification time is
what tells it from the file that was loaded."""

from __future__ import annotations

import os

import pytest
import torch

import metanet
import metanet.checkpoints as checkpoints
from metanet.reader import Reader

pytestmark = pytest.mark.skipif(not checkpoints.shipped("reader").is_file(), reason="no shipped reader checkpoint yet")


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch):
    """The shipped reader saved again (as a retraining's export writes it), served as the shipped one, with an empty
    cache."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    Reader.load(checkpoints.shipped("reader")).save(folder / "reader.safetensors")
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", folder)
    monkeypatch.setattr(checkpoints, "_SHIPPED", {})
    return folder


def test_a_reader_file_overwritten_in_place_with_the_same_size_is_read_again(shipped_dir, tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    path = shipped_dir / "reader.safetensors"
    before = metanet.read(net, scan=False)
    r = Reader.load(path)
    with torch.no_grad():
        r.heads.log_lr.bias += 1.0  # the learning rate it reads
    new = r.save(tmp_path / "new.safetensors")
    st = os.stat(path)
    data = new.read_bytes()
    assert len(data) == st.st_size  # same configuration, same size
    with open(path, "r+b") as f:  # as cp does over an existing file: the same inode
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later write, whatever the clock's resolution
    now = os.stat(path)
    assert (now.st_ino, now.st_size) == (st.st_ino, st.st_size)
    after = metanet.read(net, scan=False)
    assert after["hyperparameters"]["lr"] != before["hyperparameters"]["lr"]
    assert after == metanet.read(net, reader=Reader.load(path), scan=False)
