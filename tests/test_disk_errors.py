"""Writers on a full disk, a read-only one, and odd output paths: one clear error naming the destination (one line
from the CLI), no partial file at the destination or temporary file next to it, an existing file kept intact.

Each failure is triggered in-process (a write that raises ENOSPC, an index that cannot grow) and, where the tests run
as root and may mount, also on a real tiny tmpfs; those tests skip otherwise."""

from __future__ import annotations

import errno
import os
import pathlib
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from metanet.cli import main, out_file
from metanet.errors import ConfigError, ZooError
from metanet.inspect.db import NeuronDB
from metanet.inspect.output import staged
from metanet.io import atomic_write, load_meta, save
from metanet.nets import build
from metanet.zoo.store import NET_COLUMNS, Store


def _enospc_write_bytes(monkeypatch) -> None:
    """Every ``Path.write_bytes`` writes half its data, then fails as a full disk does: with no file name."""
    def half(self, data):
        with open(self, "wb") as f:
            f.write(bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", half)


def _mount(where: Path, *options: str) -> Path:
    """A tmpfs mounted at ``where`` (skips unless root and mount works: CI containers may refuse it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    return where


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs with ``fill(free)`` to leave about ``free`` bytes; unmounted afterwards."""
    disk = _mount(tmp_path / "full", "size=64k")

    def fill(free: int) -> None:
        size = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize - free
        with open(disk / ".filler", "ab") as f:
            f.write(b"\0" * max(size, 0))

    yield disk, fill
    subprocess.run(["umount", str(disk)], check=True, timeout=30)


def _rows(n: int) -> list[dict]:
    return [{c: (i if c in ("id", "run", "epoch") else "x" * 400) for c in NET_COLUMNS
             if c not in ("shard", "unit", "created")} for i in range(n)]


# --- metanet.save and every atomic_write ---------------------------------------------------------------------------
def test_a_full_disk_while_saving_names_the_destination_and_keeps_the_old_file(tmp_path, monkeypatch):
    # the OSError of a write to an open file names no file: the CLI showed a traceback, not one line
    path = tmp_path / "m.safetensors"
    save(build("mlp:8-4-2", seed=1), path, version=1)
    before = path.read_bytes()
    _enospc_write_bytes(monkeypatch)
    with pytest.raises(OSError) as e:
        save(build("mlp:8-4-2", seed=2), path, version=2)
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(path)
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"] and path.read_bytes() == before


def test_a_failed_rename_names_the_destination_not_the_temporary(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EROFS, "Read-only file system", src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="Read-only file system") as e:
        atomic_write(tmp_path / "out.json", lambda tmp: Path(tmp).write_text("{}"))
    assert e.value.filename == str(tmp_path / "out.json") and os.listdir(tmp_path) == []


def test_an_error_about_another_file_keeps_its_name(tmp_path):
    def write(tmp):
        open(tmp_path / "missing-input")  # the writer's own input: its name is the useful one

    with pytest.raises(FileNotFoundError) as e:
        atomic_write(tmp_path / "out", write)
    assert e.value.filename == str(tmp_path / "missing-input") and os.listdir(tmp_path) == []


def test_the_cli_reports_a_full_disk_in_one_line(tmp_path, monkeypatch, capsys):
    net = tmp_path / "n.safetensors"
    save(build("mlp:8-4-2"), net)
    plot = tmp_path / "graph.svg"
    plot.write_text("an earlier plot")
    _enospc_write_bytes(monkeypatch)
    assert main(["graph", str(net), "--plot", str(plot)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"metanet: error: No space left on device: {plot}"]
    assert plot.read_text() == "an earlier plot" and sorted(os.listdir(tmp_path)) == ["graph.svg", "n.safetensors"]


def test_the_cli_reports_a_full_disk_that_names_no_file_in_one_line(monkeypatch, capsys):
    # TensorBoard's event writer and jsonargparse's config.yaml raise ENOSPC without a file name
    import metanet.train as train

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train, "_check_configs", full)
    assert train.cli_main(["fit", "-c", "x.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("metanet: error: No space left on device (while writing an output file")
    with pytest.raises(OSError):  # --debug keeps the traceback
        train.cli_main(["fit", "-c", "x.yaml"], debug=True)


# --- a path ending in '/' -------------------------------------------------------------------------------------------
def test_a_file_path_ending_in_a_slash_is_refused_not_written_without_it(tmp_path, capsys):
    # Path('out/') is 'out': save wrote a file named 'out', where the user meant a folder
    for target in (str(tmp_path / "new") + "/", str(tmp_path / "new") + os.sep):
        with pytest.raises(IsADirectoryError, match="ends in '/'"):
            save(build("mlp:8-4-2"), target)
        with pytest.raises(IsADirectoryError, match="ends in '/'"):
            atomic_write(target, lambda tmp: Path(tmp).write_text("x"))
        with pytest.raises(IsADirectoryError, match="ends in '/'"):
            NeuronDB([], {}).to_sqlite(target)
        with pytest.raises(ConfigError, match=r"ends in '/', so names a directory; give a file path, e.g. .*new"):
            out_file(target)
    assert os.listdir(tmp_path) == []
    # the CLI refuses it before any work
    assert main(["generate", "digits", "--out", str(tmp_path / "new") + "/"]) == 2
    assert "ends in '/'" in capsys.readouterr().err and os.listdir(tmp_path) == []


# --- metanet inspect's database and output folder ------------------------------------------------------------------
def test_a_full_disk_while_writing_the_neuron_database_is_an_os_error(tmp_path, monkeypatch):
    # sqlite's 'database or disk is full' was a raw sqlite3.OperationalError traceback
    def full(self, con):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(NeuronDB, "_fill", full)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "neurons.sqlite").write_text("the last run's")
    with pytest.raises(OSError, match=r"cannot write the database \(database or disk is full\)") as e:
        with staged(tmp_path / "out") as stage:
            NeuronDB([], {}).save(stage)
    # named in the output folder, not in the staging folder the user never asked for
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(tmp_path / "out" / "neurons.sqlite")
    assert os.listdir(tmp_path / "out") == ["neurons.sqlite"]
    assert (tmp_path / "out" / "neurons.sqlite").read_text() == "the last run's"


def test_an_error_naming_a_file_outside_the_staging_folder_is_kept(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        with staged(tmp_path / "out"):
            open(tmp_path / "elsewhere")
    assert e.value.filename == str(tmp_path / "elsewhere") and os.listdir(tmp_path) == []


# --- the zoo index --------------------------------------------------------------------------------------------------
def test_an_index_that_cannot_grow_is_a_zoo_error_and_leaves_no_orphan_shard(tmp_path):
    # sqlite rolls the transaction back itself on SQLITE_FULL: the second ROLLBACK raised 'cannot rollback - no
    # transaction is active', a traceback that hid the full disk (and the shard stayed, holding the space)
    with Store(tmp_path / "z", create=True) as s:
        pages = s.conn.execute("PRAGMA page_count").fetchone()[0]
        s.conn.execute(f"PRAGMA max_page_count={pages}")  # as a full disk: the index cannot grow
        with pytest.raises(ZooError, match=r"cannot write the zoo index .*index.sqlite \(database or disk is full\): "
                                           "the disk holding it is full"):
            s.write_unit(0, b"a shard", _rows(50))
        assert s.done_units() == set() and not s.conn.in_transaction
        assert os.listdir(tmp_path / "z" / "shards") == []
        s.conn.execute(f"PRAGMA max_page_count={1 << 30}")  # space freed: the same unit is written
        s.write_unit(0, b"a shard", _rows(50))
        assert s.done_units() == {0}


# --- the same on a real tiny file system ----------------------------------------------------------------------------
def test_real_full_disk_save_and_cli(full_disk, tmp_path, capsys):
    disk, fill = full_disk
    (disk / "old.safetensors").write_bytes(b"kept")
    fill(2048)
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-32-10"), net)  # about 11 KB: does not fit
    with pytest.raises(OSError) as e:
        save(build("mlp:64-32-10"), disk / "old.safetensors")
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(disk / "old.safetensors")
    assert main(["graph", str(net), "--plot", str(disk / "g.png")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"metanet: error: No space left on device: {disk / 'g.png'}"]
    assert sorted(os.listdir(disk)) == [".filler", "old.safetensors"] and (disk / "old.safetensors").read_bytes() == b"kept"
    assert load_meta(net) is not None


def test_real_full_disk_neuron_database(full_disk):
    from metanet import tasks
    from metanet.inspect import inspect

    disk, fill = full_disk
    db = inspect(build("mlp:64-8-10"), tasks.resolve("digits"), reader=None, max_examples=64)
    fill(4096)
    with pytest.raises(OSError, match="database or disk is full") as e:
        with staged(disk / "out") as stage:
            db.save(stage)
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(disk / "out" / "neurons.sqlite")
    assert os.listdir(disk) == [".filler"]


def test_real_full_disk_zoo_index(full_disk):
    disk, fill = full_disk
    with Store(disk / "z", create=True) as s:
        fill(12 * 1024)
        with pytest.raises(ZooError, match="disk holding it is full|No space left on device"):
            for unit in range(20):
                s.write_unit(unit, b"a shard", _rows(20))
        committed = s.done_units()
        assert sorted(p.name for p in (disk / "z" / "shards").iterdir()) == [f"{u:05d}.safetensors" for u in
                                                                            sorted(committed)]


def test_real_read_only_disk(tmp_path):
    disk = _mount(tmp_path / "ro", "ro")
    try:
        with pytest.raises(OSError, match="Read-only file system") as e:
            save(build("mlp:8-4-2"), disk / "m.safetensors")
        assert e.value.filename == str(disk / "m.safetensors")
    finally:
        subprocess.run(["umount", str(disk)], check=True, timeout=30)


def test_a_full_disk_under_tensorboard_logs_is_one_line(tmp_path, monkeypatch, capsys):
    # TensorBoard's event-file thread printed its own traceback of the full disk before the command's error
    from tensorboard.compat.tensorflow_stub.io import gfile

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gfile.LocalFileSystem, "append", full)
    printed = []  # what the thread's error hook would print (pytest puts in its own hook)
    monkeypatch.setattr(threading, "excepthook", lambda args: printed.append(args.exc_value))
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-8-10"), net, task="digits")
    code = main(["inspect", str(net), "--out", str(tmp_path / "out"), "--tensorboard", str(tmp_path / "tb"),
                 "--no-reader", "--max-examples", "64"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("metanet: error: No space left on device"), err
    assert printed == []
