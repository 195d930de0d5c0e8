"""A zoo remembers the torch thread count its members were trained with (``--threads``, default 1).

Another count changes the last bits of some members, so a resume, repair or extension of a zoo (and a merge of
shards) with another count used to mix networks that differ from an uninterrupted build's, silently. Now the count
is recorded in the zoo's meta when it is created and another one is refused before any training; a zoo written
before the count was recorded (no ``threads`` in its meta) keeps working as before.

Builds here are the first runs of the small ``digits`` recipe (``--limit 2``: two one-run units), split in two
shards so that a second build has something left to train.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import build, merge
from metanet.zoo.store import Store
from zoo_helpers import _meta, rows, shard_bytes

LIMIT = 2  # two units of one run each: shard 0/2 builds unit 0, a resume without --shard builds unit 1


def _half(recipe: dict, out: Path, threads: int | None, shard: str = "0/2") -> Path:
    build(recipe, out, limit=LIMIT, shard=shard, threads=threads, progress=False)
    return out


def _files(zoo: Path) -> dict[str, bytes]:
    """Every file of a zoo directory, by relative path: what "writes nothing" compares."""
    return {str(p.relative_to(zoo)): p.read_bytes() for p in sorted(zoo.rglob("*")) if p.is_file()}


def _forget_threads(zoo: Path) -> None:
    """Make ``zoo`` look like one written before the count was recorded: its meta without the key."""
    con = sqlite3.connect(str(zoo / "index.sqlite"))
    with con:
        con.execute("DELETE FROM meta WHERE key='threads'")
    con.close()


def test_a_new_zoo_records_the_thread_count_it_was_trained_with(small_recipe, tmp_path):
    assert _meta(_half(small_recipe, tmp_path / "default", None))["threads"] == "1"  # None means 1
    assert _meta(_half(small_recipe, tmp_path / "two", 2))["threads"] == "2"


def test_a_resume_with_the_same_count_extends_the_zoo_bit_identically(small_recipe, tmp_path):
    zoo = _half(small_recipe, tmp_path / "z", 2)
    s = build(small_recipe, zoo, limit=LIMIT, threads=2, progress=False)
    assert (s.units_built, s.units_skipped) == (1, 1)
    whole = tmp_path / "whole"
    build(small_recipe, whole, limit=LIMIT, threads=2, progress=False)
    assert rows(zoo) == rows(whole) and shard_bytes(zoo) == shard_bytes(whole)
    assert _meta(zoo)["threads"] == "2"


def test_a_resume_with_another_count_is_refused_before_training_and_writes_nothing(small_recipe, tmp_path):
    zoo = _half(small_recipe, tmp_path / "z", None)
    before = _files(zoo)
    with pytest.raises(ZooError) as info:
        build(small_recipe, zoo, limit=LIMIT, threads=2, progress=False)
    message = str(info.value)
    assert "built with --threads 1, now --threads 2" in message and "last bits" in message
    assert "re-run with --threads 1" in message
    assert _files(zoo) == before


def test_the_cli_refuses_a_resume_with_another_count_in_one_error_line(small_recipe, tmp_path, capsys):
    recipe = tmp_path / "small.yaml"
    recipe.write_text(yaml.safe_dump(small_recipe))
    zoo = tmp_path / "z"
    args = ["zoo", "build", str(recipe), "--out", str(zoo), "--limit", str(LIMIT), "--no-progress"]
    assert main([*args, "--shard", "0/2", "--threads", "2"]) == 0
    before = _files(zoo)
    capsys.readouterr()
    assert main(args) == 2  # the default, 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("metanet: error: ") and len(err.splitlines()) == 1
    assert "built with --threads 2, now --threads 1" in err and "re-run with --threads 2" in err
    assert _files(zoo) == before


def test_a_repair_with_another_count_is_refused_and_the_hint_names_the_recorded_count(small_recipe, tmp_path):
    zoo = _half(small_recipe, tmp_path / "z", 2)
    (zoo / "shards" / "00000.safetensors").unlink()
    with Store(zoo) as s:
        hint = s.check().repair
    assert "--threads 2" in hint  # without it, the hint's own command would now be refused
    before = _files(zoo)
    with pytest.raises(ZooError, match="re-run with --threads 2"):
        build(small_recipe, zoo, limit=LIMIT, shard="0/2", progress=False)
    assert _files(zoo) == before  # the broken unit's rows were not dropped
    s = build(small_recipe, zoo, limit=LIMIT, shard="0/2", threads=2, progress=False)
    assert s.rebuilt == {0: "missing"}


def test_the_repair_hint_of_a_default_count_zoo_adds_no_threads_option(small_recipe, tmp_path):
    zoo = _half(small_recipe, tmp_path / "z", None)
    (zoo / "shards" / "00000.safetensors").unlink()
    with Store(zoo) as s:
        assert "--threads" not in s.check().repair


def test_a_zoo_without_a_recorded_count_resumes_as_before(small_recipe, tmp_path):
    zoo = _half(small_recipe, tmp_path / "z", None)
    _forget_threads(zoo)
    s = build(small_recipe, zoo, limit=LIMIT, threads=2, progress=False)  # its count is unknown: not refused
    assert (s.units_built, s.units_skipped) == (1, 1)
    assert "threads" not in _meta(zoo)  # and its meta is not rewritten


@pytest.mark.parametrize("threads", [0, -1, 2.5, True, "two", 10**6])
def test_a_thread_count_that_is_not_a_whole_number_from_1_is_refused_before_any_work(small_recipe, tmp_path, threads):
    """0 was silently 1 and 2.5 a TypeError from torch after the zoo's meta was written: now one error, no zoo."""
    with pytest.raises(ZooError, match="threads must be a whole number from 1 to"):
        build(small_recipe, tmp_path / "z", limit=LIMIT, threads=threads, progress=False)
    assert not (tmp_path / "z").exists()


def test_merging_shards_built_with_different_counts_is_refused(small_recipe, tmp_path):
    a = _half(small_recipe, tmp_path / "a", 1, "0/2")
    b = _half(small_recipe, tmp_path / "b", 2, "1/2")
    with pytest.raises(ZooError) as info:
        merge(tmp_path / "m", [a, b])
    message = str(info.value)
    assert f"{b} was built with --threads 2 and {a} with --threads 1" in message and "last bits" in message
    assert f"rebuild {b} with --threads 1" in message
    assert not (tmp_path / "m").exists()
    # one at a time: the destination remembers the first source's count
    merge(tmp_path / "m", [a])
    assert _meta(tmp_path / "m")["threads"] == "1"
    before = _files(tmp_path / "m")
    with pytest.raises(ZooError, match="holds a zoo built with --threads 1, the sources with --threads 2"):
        merge(tmp_path / "m", [b])
    assert _files(tmp_path / "m") == before


def test_merging_shards_of_one_count_records_it_in_the_merged_zoo(small_recipe, tmp_path):
    a = _half(small_recipe, tmp_path / "a", 2, "0/2")
    b = _half(small_recipe, tmp_path / "b", 2, "1/2")
    merge(tmp_path / "m", [a, b])
    assert _meta(tmp_path / "m")["threads"] == "2"
    # the merged zoo is resumable (nothing left to do) with its count, and refused with another
    assert build(small_recipe, tmp_path / "m", limit=LIMIT, threads=2, progress=False).units_built == 0
    with pytest.raises(ZooError, match="re-run with --threads 2"):
        build(small_recipe, tmp_path / "m", limit=LIMIT, progress=False)


def test_merging_with_a_zoo_without_a_recorded_count_works_and_records_none(small_recipe, tmp_path):
    a = _half(small_recipe, tmp_path / "a", 1, "0/2")
    b = _half(small_recipe, tmp_path / "b", 2, "1/2")
    _forget_threads(a)  # an old shard: which count it used is unknown, so nothing is refused
    merge(tmp_path / "m", [a, b])
    assert "threads" not in _meta(tmp_path / "m")  # the merged zoo's count is not known either
