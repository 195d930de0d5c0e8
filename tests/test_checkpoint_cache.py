"""The shipped writer and reader are cached by one rule (metanet.checkpoints.load_shipped): reused while their file
is the same, read again when it is replaced, loaded once when two threads ask at once."""

from __future__ import annotations

import shutil
import threading

import pytest
import torch

import metanet
import metanet.checkpoints as checkpoints
from metanet.errors import CheckpointError
from metanet.io import file_sha256
from metanet.reader import Reader
from metanet.reader.predict import _shipped
from metanet.writer import Writer
from metanet.writer.generate import _writer

KINDS = ("writer", "reader")
pytestmark = pytest.mark.skipif(not all(checkpoints.shipped(k).is_file() for k in KINDS),
                                reason="no shipped writer and reader checkpoints yet")
LOADER = {"writer": lambda: _writer(None), "reader": _shipped}


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch):
    """A copy of the shipped checkpoints, served as the shipped ones, with an empty cache."""
    for kind in KINDS:
        shutil.copy(checkpoints.shipped(kind), tmp_path / f"{kind}.safetensors")
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path)
    monkeypatch.setattr(checkpoints, "_SHIPPED", {})
    return tmp_path


@pytest.fixture
def loads(monkeypatch):
    """kind -> how many times its checkpoint file was loaded (Writer.load and Reader.load both use load_module)."""
    counts = {k: 0 for k in KINDS}
    real = checkpoints.load_module

    def counting(cls, path, kind):
        counts[kind] += 1
        return real(cls, path, kind)

    monkeypatch.setattr(checkpoints, "load_module", counting)
    return counts


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def _generate():
    return metanet.generate("digits", seed=0, candidates=1, verify=False)


def test_a_replaced_writer_file_is_read_again_by_generate(shipped_dir):
    first = _generate().report.writer
    assert first["source"] == "shipped"
    path = shipped_dir / "writer.safetensors"
    w = Writer.load(path)
    with torch.no_grad():
        next(w.parameters()).add_(0.5)
    w.save(path)  # atomically: a new file in its place, as a reinstall or a re-export leaves it
    second = _generate().report.writer
    assert second["source"] == "shipped"
    assert second["sha256"] == file_sha256(path) != first["sha256"]
    assert second["state_sha256"] != first["state_sha256"]


def test_a_replaced_reader_file_is_read_again_by_read(shipped_dir):
    # the reader was loaded once per process and never checked again: read() kept the old weights
    net = _net()
    before = metanet.read(net, scan=False)
    path = shipped_dir / "reader.safetensors"
    r = Reader.load(path)
    with torch.no_grad():
        r.heads.log_lr.bias += 1.0  # the learning rate it reads
    r.save(path)
    after = metanet.read(net, scan=False)
    assert after["hyperparameters"]["lr"] != before["hyperparameters"]["lr"]
    assert after == metanet.read(net, reader=Reader.load(path), scan=False)


@pytest.mark.parametrize("kind", KINDS)
def test_an_unchanged_file_is_loaded_once_and_its_module_reused(kind, shipped_dir, loads):
    first = LOADER[kind]()
    assert LOADER[kind]() is first
    assert loads == {**{k: 0 for k in KINDS}, kind: 1}


def test_generate_and_read_load_the_unchanged_files_once(shipped_dir, loads):
    net = _net()
    assert _generate().report.writer == _generate().report.writer
    assert metanet.read(net, scan=False) == metanet.read(net, scan=False)
    assert loads == {"writer": 1, "reader": 1}


@pytest.mark.parametrize("which", KINDS)
def test_two_threads_load_the_file_once(which, shipped_dir, monkeypatch):
    # the first load waits for the other thread to finish: unguarded, that thread loaded the file too (and set
    # `other_done` at once); with the lock it waits for this load, so this wait ends by its (short) timeout
    counts, other_done = [], threading.Event()
    real = checkpoints.load_module

    def first_waits(cls, path, kind):  # Writer.load passes kind= by name
        counts.append(kind)
        if len(counts) == 1:
            other.start()
            other_done.wait(timeout=1.0)
        return real(cls, path, kind)

    monkeypatch.setattr(checkpoints, "load_module", first_waits)
    got = {}

    def call(name):
        got[name] = LOADER[which]()
        if name == "other":
            other_done.set()

    other = threading.Thread(target=call, args=("other",))
    call("first")
    other.join()
    assert counts == [which]
    assert got["first"] is got["other"]


def test_the_writer_changed_in_place_is_loaded_again(shipped_dir, loads):
    # generate's report must name the writer that wrote: a cached writer whose weights changed is no longer the file's
    w = _writer(None)
    with torch.no_grad():
        next(w.parameters()).add_(0.5)
    again = _writer(None)
    assert again is not w and again.identity()["source"] == "shipped"
    assert loads["writer"] == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_or_missing_file_is_an_error_and_a_good_one_is_served_again(kind, shipped_dir):
    path = shipped_dir / f"{kind}.safetensors"
    good = path.read_bytes()
    LOADER[kind]()
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="is not a readable safetensors checkpoint"):
        LOADER[kind]()
    path.unlink()
    with pytest.raises(CheckpointError, match=f"no {kind} checkpoint at"):
        LOADER[kind]()
    path.write_bytes(good)
    assert isinstance(LOADER[kind](), Writer if kind == "writer" else Reader)
