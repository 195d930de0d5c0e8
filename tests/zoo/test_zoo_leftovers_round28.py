"""Round 28 zoo leftovers: a Zoo opened by a relative path after a chdir, a failing build with a process pool,
the build's progress bar in logs, select(task=typo), and a full disk while writing a unit."""

from __future__ import annotations

import errno
import importlib
import io
import os
import sqlite3
import time

import pytest

from metanet.errors import ZooError
from metanet.zoo import Zoo, build
from metanet.zoo.store import Store

build_mod = importlib.import_module("metanet.zoo.build")  # metanet.zoo.build is also the function


def test_a_zoo_opened_by_a_relative_path_reads_its_shards_after_a_chdir(small_zoo, tmp_path, monkeypatch):
    # "cannot read small/shards/00000.safetensors": the Store kept the relative path and read shards later by it
    monkeypatch.chdir(small_zoo.parent)
    with Zoo(small_zoo.name) as zoo:
        ids = [n.id for n in zoo.select(arch=zoo.archs[0])][:2]
        monkeypatch.chdir(tmp_path)
        assert zoo.load(ids[0]) is not None and zoo.stacked(ids)[1]
        assert zoo.path == small_zoo  # absolute, no symlink resolved, no '..' left
        assert zoo.check().ok
    monkeypatch.chdir(small_zoo / "shards")
    with Zoo(os.path.join("..", "..", small_zoo.name)) as zoo:
        assert zoo.path == small_zoo


def test_a_relative_path_through_a_symlink_keeps_the_link_name(small_zoo, tmp_path, monkeypatch):
    (tmp_path / "link").symlink_to(small_zoo, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    with Zoo("link") as zoo:
        assert zoo.path == tmp_path / "link"  # the name given, not the target
        with pytest.raises(ZooError, match=r"no network with id 99999 in .*link"):
            zoo.info(99999)


def _job(payload, ctx, threads):
    """Stand-in for build._unit_job in the pool's workers: unit 0 is done at once, the others train 'forever'."""
    if payload["index"] == 0:
        return 0, b"", [], 0.0
    time.sleep(120)
    return payload["index"], b"", [], 0.0


def test_a_failed_write_stops_the_pool_at_once(small_recipe, tmp_path, monkeypatch):
    # a full disk in write_unit: leaving `with ProcessPoolExecutor` waited for the units still training before the
    # error showed (here 120 s), and the workers lived on meanwhile
    assert len(build_mod.plan(build_mod.load_recipe(small_recipe))) >= 3
    monkeypatch.setattr(build_mod, "_unit_job", _job)
    failed_at = []

    def full(self, *a, **k):
        failed_at.append(time.monotonic())
        raise ZooError("cannot write the shard: No space left on device")

    monkeypatch.setattr(Store, "write_unit", full)
    with pytest.raises(ZooError, match="No space left"):
        build(small_recipe, tmp_path / "z", workers=2, progress=False)
    assert failed_at and time.monotonic() - failed_at[0] < 30


def test_the_build_bar_is_not_drawn_into_a_log(small_recipe, tmp_path, capsys, monkeypatch):
    # progress=True (the CLI's default) wrote tqdm's '\r' frames into captured stderr, a log file or a pipe
    build(small_recipe, tmp_path / "a", limit=1, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "nets" not in err

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    build(small_recipe, tmp_path / "b", limit=1, progress=True)  # a terminal still gets its bar, over networks
    assert "3/3 nets" in tty.getvalue()


def test_the_cli_help_says_when_the_bar_is_drawn(capsys):
    from metanet.cli import main

    with pytest.raises(SystemExit):
        main(["zoo", "build", "--help"])
    assert "only when stderr is a terminal" in " ".join(capsys.readouterr().out.split())
    assert "when stderr is a terminal" in build_mod.build.__doc__


def test_select_a_task_typo_is_an_error_naming_the_zoo_tasks(small_zoo):
    with Zoo(small_zoo) as zoo:
        with pytest.raises(ZooError, match=r"'digts' is not a task name.*tasks are 'digits'"):
            zoo.select(task="digts")
        with pytest.raises(ZooError, match=r"'dgits' is not a task name"):
            zoo.select(task=["digits", "dgits"])
        assert zoo.select(task="mnist[3,8]") == []  # a valid task the zoo lacks: nothing, as documented
        every = zoo.select(task="digits")
        assert every and zoo.select(task=" Digits ") == every  # another spelling of the same task
        assert "a valid task name that the zoo lacks matches nothing" in " ".join(Zoo.select.__doc__.split()).lower()


def test_a_full_disk_while_writing_a_shard_is_a_zoo_error(tmp_path, monkeypatch):
    # a raw OSError naming a temporary file the user never asked for
    import metanet.zoo.store as store_mod

    def enospc(path, write):
        raise OSError(errno.ENOSPC, "No space left on device", str(path.parent / ".x.tmp"))

    monkeypatch.setattr(store_mod, "atomic_write", enospc)
    with Store(tmp_path / "z", create=True) as s:
        with pytest.raises(ZooError, match=r"cannot write the shard .*00003.safetensors \(No space left on device\)"
                                           r".*run the same build or merge again"):
            s.write_unit(3, b"x", [])
        assert s.done_units() == set()


def test_a_full_disk_in_the_index_is_not_called_damage(tmp_path):
    # "database or disk is full" read "is not a readable zoo index ... damaged ...: rebuild the zoo"
    class Full:
        def execute(self, *a):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    s = Store(tmp_path / "z", create=True)
    s.conn.close()
    s.conn = Full()
    with pytest.raises(ZooError, match="disk holding it is full") as e:
        s.done_units()
    assert "damaged" not in str(e.value) and "rebuild" not in str(e.value)
