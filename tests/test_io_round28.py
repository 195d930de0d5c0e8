"""Round 28: files on disk. Empty write paths, and the process umask during a save (threads)."""

from __future__ import annotations

import os
import threading

import pytest
from torch import nn

import metanet
from metanet.errors import FileFormatError
from metanet.io import load, save


def _net() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


@pytest.mark.parametrize("path", ["", "   ", b""])
def test_an_empty_or_blank_path_is_named_and_nothing_is_written(tmp_path, monkeypatch, path):
    # '' said "'.': is a directory" (a path never given); '   ' wrote a file named by spaces that load() refused
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileFormatError, match="path to write is empty"):
        save(_net(), path)
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
    save(_net(), tmp_path / "new.safetensors")
    assert 0 not in seen
    assert load(tmp_path / "new.safetensors") is not None


def test_a_new_file_still_gets_the_mode_of_a_plain_open_under_another_umask(tmp_path):
    old = os.umask(0o027)
    try:
        save(_net(), tmp_path / "m.safetensors")
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
