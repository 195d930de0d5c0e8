"""A zoo directory from a stranger: shard paths that lead outside the zoo, shards that are no regular file (a FIFO,
a device), and index rows whose arch names a network of 10**6 layers or 10**9 units. Reading, checking or merging
such a zoo must be a ZooError (or a problem of ``zoo check``), never a read outside the zoo, a hang or a raw crash."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from metanet.errors import ZooError
from metanet.zoo import Zoo, build, merge

#: two runs of one checkpoint in two units (architectures of one and two hidden layers): network i in unit i
RECIPE = {
    "name": "hostile", "seed": 7, "count": 2, "population": 1, "tasks": ["digits"], "checkpoints": [1],
    "arch": {"family": "mlp", "depth": [1, 2], "width": 16, "activation": "relu"},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "epochs": 1, "train_examples": 300},
    "eval": {"train_examples": 100},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Two networks (one per unit), built once; tests edit copies."""
    recipe = copy.deepcopy(RECIPE)
    out = tmp_path_factory.mktemp("hostile") / "zoo"
    build(recipe, out, progress=False)
    return out


@pytest.fixture
def zoo_dir(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "zoo"))


def _set_shard(zoo: Path, unit: int, shard: str) -> None:
    with sqlite3.connect(zoo / "index.sqlite") as c:
        c.execute("UPDATE nets SET shard=? WHERE unit=?", (shard, unit))
        c.execute("UPDATE units SET shard=? WHERE unit=?", (shard, unit))
    c.close()


def _set_arch(zoo: Path, net: int, arch: dict) -> None:
    with sqlite3.connect(zoo / "index.sqlite") as c:
        c.execute("UPDATE nets SET arch=? WHERE id=?", (json.dumps(arch), net))
    c.close()


def _outside(zoo: Path, how: str) -> str:
    """Move unit 0's shard outside the zoo (an intact copy: only where it lives is wrong) and name it ``how``."""
    target = zoo.parent / "elsewhere.safetensors"
    shutil.move(zoo / "shards" / "00000.safetensors", target)
    if how == "dotdot":
        return "../elsewhere.safetensors"
    if how == "absolute":
        return str(target)
    (zoo / "shards" / "00000.safetensors").symlink_to(target)  # the row unchanged, the file a link out
    return "shards/00000.safetensors"


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_a_shard_outside_the_zoo_is_refused_by_load_check_and_merge(zoo_dir, tmp_path, how):
    shard = _outside(zoo_dir, how)
    _set_shard(zoo_dir, 0, shard)
    with Zoo(zoo_dir) as z:
        with pytest.raises(ZooError, match=r"network 0 names the shard .* not inside the zoo directory"):
            z.load(0)
        with pytest.raises(ZooError, match=r"^network 0 names the shard .* not inside the zoo directory"):
            z.stacked([0])
        z.load(1)  # the other unit's shard is where it belongs
        rep = z.check()
    assert not rep.ok and any("not inside the zoo directory" in p for p in rep.problems), rep.problems
    assert rep.repairable == [0]
    with pytest.raises(ZooError, match=r"unit 0 of .* names the shard .* not inside the zoo directory"):
        merge(tmp_path / "merged", [zoo_dir])


def test_a_symlink_inside_the_zoo_is_still_read(zoo_dir):
    # a link whose target is inside the zoo reads as before (a shard moved aside and linked back)
    (zoo_dir / "shards" / "00000.safetensors").rename(zoo_dir / "shards" / "kept.safetensors")
    (zoo_dir / "shards" / "00000.safetensors").symlink_to("kept.safetensors")
    with Zoo(zoo_dir) as z:
        z.load(0)


def test_a_shards_folder_linked_to_another_disk_is_still_read(zoo_dir, tmp_path):
    # shards kept elsewhere (a cluster's scratch disk) with shards/ a link to them: the zoo's own layout, not a stranger's
    elsewhere = tmp_path / "scratch" / "shards"
    elsewhere.parent.mkdir()
    (zoo_dir / "shards").rename(elsewhere)
    (zoo_dir / "shards").symlink_to(elsewhere)
    with Zoo(zoo_dir) as z:
        z.load(0)
        assert z.check().ok


class _Feeder:
    """Opens a FIFO's write end (which waits for a reader), writes a few bytes and closes it: the code before the
    fix read them and failed on them instead of waiting forever; ``stop`` frees a writer no reader ever came to."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        fd = os.open(self.fifo, os.O_WRONLY)
        try:
            os.write(fd, b"not a shard")
        except BrokenPipeError:  # the reader looked at the file's type and closed it: what the fix does
            pass
        os.close(fd)

    def stop(self) -> None:
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open return
        self.thread.join()
        os.close(fd)


@pytest.fixture
def fifo_zoo(zoo_dir):
    shard = zoo_dir / "shards" / "00000.safetensors"
    shard.unlink()
    os.mkfifo(shard)
    feeder = _Feeder(shard)
    yield zoo_dir
    feeder.stop()


def test_a_fifo_shard_is_refused_by_load_without_waiting(fifo_zoo):
    with Zoo(fifo_zoo) as z:
        with pytest.raises(ZooError, match=r"00000.safetensors \(it is a FIFO, not a regular file\)"):
            z.load(0)
        with pytest.raises(ZooError, match="it is a FIFO, not a regular file"):
            z.stacked([0])
        assert not z.check().ok


def test_a_fifo_shard_is_refused_by_merge_without_waiting(fifo_zoo, tmp_path):
    with pytest.raises(ZooError, match=r"cannot read .*00000.safetensors \(it is a FIFO, not a regular file\)"):
        merge(tmp_path / "merged", [fifo_zoo])


def test_a_device_shard_is_refused_by_merge_without_reading_it(zoo_dir, tmp_path):
    # a link inside the zoo to /dev/zero: read without end before (a MemoryError at best)
    shard = zoo_dir / "shards" / "00000.safetensors"
    shard.unlink()
    shard.symlink_to("/dev/zero")
    with pytest.raises(ZooError, match="not inside the zoo directory"):
        merge(tmp_path / "merged", [zoo_dir])


def test_read_regular_refuses_a_device_and_a_file_that_grows(tmp_path):
    from metanet.zoo.store import _read_regular

    with pytest.raises(OSError, match="it is a device, not a regular file"):
        _read_regular(Path("/dev/zero"))
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert _read_regular(p) == b"abc"


def _mlp(widths: list[int]) -> dict:
    return {"activation": "relu", "bias": True, "family": "mlp", "kernel": 3, "skips": False, "stride": 2,
            "widths": widths}


def test_a_row_naming_a_million_layers_is_refused_before_building(zoo_dir):
    _set_arch(zoo_dir, 0, _mlp([64] + [16] * 10**6 + [10]))
    with Zoo(zoo_dir) as z:
        with pytest.raises(ZooError, match=r"network 0 is corrupt .*1,000,001 layers; metanet reads networks of at "
                                           r"most 10,000"):
            z.load(0)
        rep = z.check()
    assert any(p.startswith("network 0: its arch in the index is invalid") and "1,000,001 layers" in p
               for p in rep.problems), rep.problems


@pytest.mark.parametrize("widths", [[64, 10**9, 10], [64, 10]])
def test_check_compares_each_rows_arch_with_its_tensors(zoo_dir, widths):
    _set_arch(zoo_dir, 0, _mlp(widths))
    with Zoo(zoo_dir) as z:
        rep = z.check()
        with pytest.raises(ZooError, match="stored tensors do not fit"):
            z.load(0)  # what check now reports
    assert not rep.ok
    assert [p for p in rep.problems if p.startswith("network 0: its tensors do not fit its arch mlp:")], rep.problems
    assert not [p for p in rep.problems if p.startswith("network 1")]


def test_an_intact_zoo_still_checks_ok(zoo_dir):
    with Zoo(zoo_dir) as z:
        rep = z.check()
        assert rep.ok, rep.problems
        assert len(z.stacked([0])[1]) > 0
