"""A shipped checkpoint replaced by another file that keeps the old modification time (an archive extracted with
its stored timestamps, ``cp -p``, a reproducible build pinning every mtime) is read again: load_shipped's cache key
also holds the file's inode and size, which tell the new file from the one loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from torch import nn

import metanet.checkpoints as checkpoints


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch) -> Path:
    """An empty folder served as the shipped one, with an empty cache."""
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path)
    monkeypatch.setattr(checkpoints, "_SHIPPED", {})
    return tmp_path


def _load_twice(replace) -> tuple[nn.Module, nn.Module, int]:
    """The modules load_shipped serves before and after ``replace(path, old_stat)``, and how many loads it made."""
    loaded: list[nn.Module] = []

    def loader() -> nn.Module:
        loaded.append(nn.Linear(1, 1))
        return loaded[-1]

    path = checkpoints.shipped("reader")
    path.write_bytes(b"a" * 100)
    first = checkpoints.load_shipped("reader", loader)
    st = os.stat(path)
    replace(path, st)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old timestamp, as the archive stored it
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns
    return first, checkpoints.load_shipped("reader", loader), len(loaded)


def test_a_file_renamed_over_it_with_the_same_size_and_mtime_is_read_again(shipped_dir):
    def replace(path: Path, st: os.stat_result) -> None:
        new = path.with_name("new.safetensors")
        new.write_bytes(b"b" * 100)  # a retrained checkpoint of the same configuration: the same size
        os.replace(new, path)
        assert os.stat(path).st_ino != st.st_ino and os.stat(path).st_size == st.st_size

    first, second, loads = _load_twice(replace)
    assert loads == 2 and second is not first


def test_a_file_rewritten_in_place_with_another_size_and_the_same_mtime_is_read_again(shipped_dir):
    def replace(path: Path, st: os.stat_result) -> None:
        with open(path, "wb") as f:  # truncated and written: the same inode
            f.write(b"b" * 120)
        assert os.stat(path).st_ino == st.st_ino and os.stat(path).st_size != st.st_size

    first, second, loads = _load_twice(replace)
    assert loads == 2 and second is not first


def test_the_unchanged_file_is_served_from_the_cache(shipped_dir):
    first, second, loads = _load_twice(lambda path, st: None)
    assert loads == 1 and second is first
