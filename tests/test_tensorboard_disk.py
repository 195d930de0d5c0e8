"""A full disk under a TensorBoard log folder: TensorBoard's event-file thread raises OSError(ENOSPC) naming no file,
so the one line of `metanet inspect --tensorboard`, `metanet improve --log-dir` and `metanet demo` said "while
writing an output file" without saying where. `metanet.io.tensorboard_writer` raises it again naming the folder."""

from __future__ import annotations

import errno
import threading

import pytest
from demo_helpers import stub_stages

from metanet.cli import main
from metanet.io import save, tensorboard_writer
from metanet.nets import build


@pytest.fixture
def full_disk(monkeypatch):
    """Every append to an event file fails as on a full disk (no file name, as TensorBoard's gfile raises it); the
    exceptions the event-file thread would print are collected instead."""
    from tensorboard.compat.tensorflow_stub.io import gfile

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gfile.LocalFileSystem, "append", full)
    printed: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: printed.append(args.exc_value))
    return printed


def _one_line_naming(capsys, code: int, folder, progress: bool = False) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    if progress:  # the demo reports its stages on stderr before the error
        assert not any(line.startswith("metanet: error") for line in err[:-1]), err
        err = err[-1:]
    assert code == 2 and err == [f"metanet: error: No space left on device: {folder}"], err


def test_inspect_tensorboard_on_a_full_disk_names_the_log_folder(tmp_path, full_disk, capsys):
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-8-10"), net, task="digits")
    tb = tmp_path / "tb"
    code = main(["inspect", str(net), "--out", str(tmp_path / "out"), "--tensorboard", str(tb), "--no-reader",
                 "--max-examples", "64"])
    _one_line_naming(capsys, code, tb)
    assert full_disk == []


def test_improve_log_dir_on_a_full_disk_names_the_log_folder(tmp_path, full_disk, capsys):
    tb = tmp_path / "runs"
    code = main(["improve", "digits", "--rounds", "0", "--candidates", "2", "--log-dir", str(tb)])
    _one_line_naming(capsys, code, tb)
    assert full_disk == []


def test_demo_on_a_full_disk_names_its_tensorboard_folder(tmp_path, monkeypatch, full_disk, capsys):
    stub_stages(monkeypatch)  # no zoo, reader or loop: only the demo's own TensorBoard writes
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--quick"])
    _one_line_naming(capsys, code, out / "tb", progress=True)
    assert full_disk == []


def test_the_writer_keeps_errors_that_are_not_its_own(tmp_path):
    # an OSError of the caller's own code, naming no file, is not blamed on the log folder
    with pytest.raises(OSError) as e:
        with tensorboard_writer(tmp_path / "tb") as tb:
            tb.add_scalar("x", 1.0, 0)
            raise OSError(errno.ENOSPC, "No space left on device")
    assert e.value.filename is None
    with pytest.raises(KeyError):  # and errors of other kinds pass through, the writer closed after them
        with tensorboard_writer(tmp_path / "tb2") as tb:
            raise KeyError("x")
    assert list((tmp_path / "tb2").glob("events.out.tfevents.*"))


def test_the_writer_flushes_and_closes_on_a_good_disk(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with tensorboard_writer(tmp_path / "tb") as tb:
        tb.add_scalar("loss", 0.5, 3)
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [(s.step, s.value) for s in acc.Scalars("loss")] == [(3, 0.5)]
