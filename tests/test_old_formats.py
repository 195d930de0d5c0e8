"""Zoos written by older versions of metanet (fixtures in tests/data/old_formats, see its README): they are read as
before, and a resume or a merge never silently mixes networks trained by another version's code with this one's.

Older versions recorded no version of their training code in a zoo's meta; the population trainer changed in
November 2026 (the last bits of every network), so a zoo started before then and resumed today mixed both trainings
without a word."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import metanet
from metanet.errors import ZooError
from metanet.zoo.build import TRAINER, build, merge
from metanet.zoo.store import Store

OLD = Path(__file__).parent / "data" / "old_formats"


def _copy(name: str, tmp_path: Path) -> Path:
    """A writable copy of the fixture zoo ``name`` (the fixtures themselves are never written)."""
    return Path(shutil.copytree(OLD / name, tmp_path / name))


def _meta(zoo: Path) -> dict[str, str]:
    with Store(zoo) as s:
        return s.meta()


def _set_trainer(zoo: Path, value: str) -> None:
    with closing(sqlite3.connect(zoo / "index.sqlite")) as con, con:
        con.execute("UPDATE meta SET value=? WHERE key='trainer'", (value,))


def _unrecorded(tmp_path: Path) -> Path:
    """Half of zoo_58e7d84's recipe (unit 0) as 58e7d84 left it: trained as today, ``threads`` in its meta, no
    ``trainer``. Trained here rather than copied: the fixture's shard holds the last bits of the machine that built it
    (an Intel Xeon), and the same code on another CPU (an AMD EPYC) trains others, which a resume rightly refuses."""
    zoo = tmp_path / "zoo_58e7d84"
    build(OLD / "zoo_58e7d84" / "recipe.yaml", zoo, shard="0/2", progress=False)
    with closing(sqlite3.connect(zoo / "index.sqlite")) as con, con:
        con.execute("DELETE FROM meta WHERE key='trainer'")
    assert "trainer" not in _meta(zoo) and _meta(zoo)["threads"] == "1"
    return zoo


def _files(zoo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(zoo)): p.read_bytes() for p in sorted((zoo / "shards").iterdir())}


@pytest.mark.parametrize("name", ["zoo_1698d58", "zoo_58e7d84"])
def test_an_older_zoo_is_read_and_checked_as_before(tmp_path, name):
    zoo = _copy(name, tmp_path)
    with metanet.Zoo(zoo) as z:
        assert len(z) == 1
        assert type(z.load(0)).__name__ == "MLP"
    with Store(zoo) as s:
        assert s.check().ok


def test_resuming_a_zoo_of_an_older_training_is_refused_before_training_anything(tmp_path):
    zoo = _copy("zoo_1698d58", tmp_path)
    before = _files(zoo)
    with pytest.raises(ZooError) as e:
        build(zoo / "recipe.yaml", zoo, progress=False)
    message = str(e.value)
    assert "built by an older metanet version" in message and "differs from its shards/00000.safetensors" in message
    assert "would mix networks trained by both" in message and "another --out directory" in message
    assert _files(zoo) == before  # unit 1 was not trained by this version beside the old unit 0
    assert "trainer" not in _meta(zoo)


def test_an_older_zoo_this_version_trains_identically_resumes_and_records_it(tmp_path):
    zoo = _unrecorded(tmp_path)
    unit0 = _files(zoo)["shards/00000.safetensors"]
    s = build(OLD / "zoo_58e7d84" / "recipe.yaml", zoo, progress=False)
    assert (s.units_built, s.units_skipped) == (1, 1)
    assert _meta(zoo)["trainer"] == TRAINER  # checked once: the next resume or merge knows
    assert _files(zoo)["shards/00000.safetensors"] == unit0


def test_a_new_zoo_records_its_training_and_another_recorded_one_is_refused(tmp_path):
    zoo = tmp_path / "z"
    build(OLD / "zoo_58e7d84" / "recipe.yaml", zoo, shard="0/2", progress=False)
    assert _meta(zoo)["trainer"] == TRAINER
    _set_trainer(zoo, "99")  # as a future version with other numerics would write it
    with pytest.raises(ZooError, match=r"built by another metanet version, whose zoo training gives other weights "
                                       rf"\(trainer '99', this version's '{TRAINER}'\)"):
        build(OLD / "zoo_58e7d84" / "recipe.yaml", zoo, progress=False)
    assert sorted(_files(zoo)) == ["shards/00000.safetensors"]


def test_merge_refuses_an_unrecorded_zoo_beside_a_recorded_one_until_its_build_records_it(tmp_path):
    old = _unrecorded(tmp_path)  # unit 0, by an older version
    new = tmp_path / "new"
    recipe = OLD / "zoo_58e7d84" / "recipe.yaml"
    build(recipe, new, shard="1/2", progress=False)  # unit 1, by this one
    with pytest.raises(ZooError, match="did not record its zoo training") as e:
        merge(tmp_path / "m", [old, new])
    assert "--shard included" in str(e.value)
    assert not (tmp_path / "m").exists()
    build(recipe, old, shard="0/2", progress=False)  # its own build checks and records it
    assert merge(tmp_path / "m", [old, new])["units_copied"] == 2
    assert _meta(tmp_path / "m")["trainer"] == TRAINER


def test_merge_refuses_zoos_of_different_recorded_trainings(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    recipe = OLD / "zoo_58e7d84" / "recipe.yaml"
    build(recipe, a, shard="0/2", progress=False)
    build(recipe, b, shard="1/2", progress=False)
    _set_trainer(b, "99")
    with pytest.raises(ZooError, match="built by metanet versions whose zoo training differs"):
        merge(tmp_path / "m", [a, b])
