"""Re-running a build (or a merge) repairs a zoo: a committed unit whose shard was deleted or corrupted, or whose
index rows are incomplete (or have no units row), is dropped and trained again, bit-identically and under the same
network ids; a merge whose destination is among its sources is refused, not counted as a repair."""

from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import Zoo, build, merge
from metanet.zoo.store import Store
from zoo_helpers import _copy, rows, shard_bytes

LIMIT = 8  # zoo/tiny.yaml, first 8 runs: 7 units, 32 networks, under a second


def units(path: Path) -> list[tuple]:
    con = sqlite3.connect(str(path / "index.sqlite"))
    out = con.execute("SELECT unit, shard, sha256, nets FROM units ORDER BY unit").fetchall()
    con.close()
    return out


def same_zoo(path: Path, ref: Path) -> None:
    assert rows(path) == rows(ref)  # every column but `created`, network ids included
    assert units(path) == units(ref)
    assert shard_bytes(path) == shard_bytes(ref)


@pytest.fixture(scope="module")
def tiny_ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted build of the tiny recipe (read-only: tests damage copies)."""
    out = tmp_path_factory.mktemp("repair") / "ref"
    build("tiny", out, limit=LIMIT, progress=False)
    assert Zoo(out).check().ok and len(units(out)) >= 4
    return out


@pytest.fixture
def tiny(tiny_ref: Path, tmp_path: Path) -> Path:
    out = tmp_path / "zoo"
    shutil.copytree(tiny_ref, out)
    return out


def _unit_of_shard(path: Path, name: str) -> int:
    return next(u for u, shard, _, _ in units(path) if shard == f"shards/{name}")


def test_build_rebuilds_a_deleted_shard(tiny, tiny_ref):
    victim = tiny / "shards" / "00002.safetensors"
    lost = [r["id"] for r in rows(tiny) if r["unit"] == 2]
    victim.unlink()
    rep = Zoo(tiny).check()
    assert not rep.ok and any("missing" in p for p in rep.problems)
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert victim.is_file() and Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    assert [r["id"] for r in rows(tiny) if r["unit"] == 2] == lost
    assert summary.rebuilt == {2: "missing"} and summary.units_rebuilt == 1
    assert summary.units_built == 1 and summary.nets_written == len(lost)
    assert summary.units_skipped == len(units(tiny_ref)) - 1
    assert "rebuilt 1 unit whose shard was missing (unit 2)" in str(summary)
    again = build("tiny", tiny, limit=LIMIT, progress=False)  # nothing left to do
    assert again.units_built == 0 and again.rebuilt == {} and "rebuilt" not in str(again)


def test_build_rebuilds_a_corrupted_shard(tiny, tiny_ref):
    victim = sorted((tiny / "shards").glob("*.safetensors"))[-1]
    unit = _unit_of_shard(tiny, victim.name)
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte in the last tensor: still a readable safetensors file
    victim.write_bytes(bytes(data))
    rep = Zoo(tiny).check()
    assert not rep.ok and any("sha256" in p for p in rep.problems)
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    assert summary.rebuilt == {unit: "corrupt"} and summary.units_built == 1
    assert "rebuilt 1 unit whose shard did not match its sha256" in str(summary)


def test_check_names_the_units_a_build_repairs(tiny):
    (tiny / "shards" / "00002.safetensors").unlink()
    victim = tiny / "shards" / "00004.safetensors"
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0xFF
    victim.write_bytes(bytes(data))
    rep = Zoo(tiny).check()
    assert rep.repairable == [2, 4] and rep.to_dict()["repairable"] == [2, 4]
    assert rep.repair.startswith("re-running the build repairs this: ")
    assert f"'metanet zoo build {tiny / 'recipe.yaml'} --out {tiny} --limit {LIMIT}' rebuilds units 2, 4" in rep.repair
    assert "--shard" not in rep.repair  # every planned unit is committed: not a --shard I/N build
    assert str(rep).splitlines()[-1] == f"  repair: {rep.repair}"


def test_build_rebuilds_a_truncated_shard_and_a_deleted_one_together(tiny, tiny_ref):
    (tiny / "shards" / "00000.safetensors").write_bytes(b"")  # unreadable, not only a sha256 mismatch
    (tiny / "shards" / "00003.safetensors").unlink()
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    assert summary.rebuilt == {0: "corrupt", 3: "missing"} and summary.units_built == 2
    assert "rebuilt 2 units (units 0, 3): 1 whose shard did not match its sha256, 1 whose shard was missing" \
        in str(summary)


def test_build_rebuilds_a_unit_whose_rows_were_deleted(tiny, tiny_ref):
    con = sqlite3.connect(str(tiny / "index.sqlite"))
    con.execute("DELETE FROM nets WHERE id = (SELECT MIN(id) FROM nets WHERE unit = 1)")
    con.commit()
    con.close()
    rep = Zoo(tiny).check()
    assert not rep.ok and any("unit 1 has" in p for p in rep.problems) and rep.repairable == [1]
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    assert summary.rebuilt == {1: "rows"}


def test_build_rebuilds_a_unit_whose_units_row_is_gone(tiny, tiny_ref):
    """Rows of a unit that is not committed (no units row) used to collide with the rebuilt unit's ids."""
    con = sqlite3.connect(str(tiny / "index.sqlite"))
    con.execute("DELETE FROM units WHERE unit = 4")
    con.commit()
    con.close()
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    assert summary.units_built == 1 and summary.rebuilt == {}  # not done, so built as a fresh unit


def test_interrupted_repair_resumes(tiny, tiny_ref, monkeypatch):
    """Killed while retraining a dropped unit: the unit is simply not done, and the next build finishes it."""
    zb = importlib.import_module("metanet.zoo.build")  # the module: metanet.zoo.build is also the function
    (tiny / "shards" / "00001.safetensors").unlink()

    def boom(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(zb, "run_unit", boom)
        with pytest.raises(KeyboardInterrupt):
            build("tiny", tiny, limit=LIMIT, progress=False)
    assert 1 not in Store(tiny).done_units() and not [r for r in rows(tiny) if r["unit"] == 1]
    summary = build("tiny", tiny, limit=LIMIT, progress=False)
    assert summary.units_built == 1 and summary.rebuilt == {}
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)


def test_shard_build_repairs_only_its_own_units(tiny, tiny_ref):
    (tiny / "shards" / "00001.safetensors").unlink()
    (tiny / "shards" / "00002.safetensors").unlink()
    first = build("tiny", tiny, shard="0/2", limit=LIMIT, progress=False)
    assert first.rebuilt == {2: "missing"} and first.units_built == 1
    assert not (tiny / "shards" / "00001.safetensors").exists()  # unit 1 belongs to shard 1/2: left alone
    assert Zoo(tiny).check().repairable == [1]
    second = build("tiny", tiny, shard="1/2", limit=LIMIT, progress=False)
    assert second.rebuilt == {1: "missing"}
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)


def test_cli_check_says_rebuild_repairs_and_build_does(tiny, tiny_ref, capsys):
    (tiny / "shards" / "00002.safetensors").unlink()
    assert main(["zoo", "check", str(tiny)]) == 1
    out = capsys.readouterr().out
    assert "missing (" in out and "repair: re-running the build repairs this" in out
    assert f"metanet zoo build {tiny / 'recipe.yaml'} --out {tiny} --limit {LIMIT}" in out
    # the command the hint gives, verbatim: the stored recipe.yaml resumes the same build
    assert main(["zoo", "build", str(tiny / "recipe.yaml"), "--out", str(tiny), "--limit", str(LIMIT),
                 "--no-progress"]) == 0
    assert "rebuilt 1 unit whose shard was missing (unit 2)" in capsys.readouterr().out
    assert main(["zoo", "check", str(tiny)]) == 0
    assert "repair" not in capsys.readouterr().out
    same_zoo(tiny, tiny_ref)


def test_merge_repairs_a_destination_unit_from_a_source(tiny, tiny_ref, tmp_path, capsys):
    victim = tiny / "shards" / "00003.safetensors"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0x01
    victim.write_bytes(bytes(data))
    (tiny / "shards" / "00005.safetensors").unlink()
    src = tmp_path / "src"
    shutil.copytree(tiny_ref, src)
    assert main(["zoo", "merge", str(tiny), str(src)]) == 0
    assert "2 replaced a missing or corrupt shard" in capsys.readouterr().out
    assert Zoo(tiny).check().ok
    same_zoo(tiny, tiny_ref)
    res = merge(tiny, [src])
    assert res["units_copied"] == 0 and res["units_repaired"] == 0


def test_merge_of_a_source_with_a_corrupt_shard_is_a_zoo_error(tiny, tmp_path):
    victim = tiny / "shards" / "00001.safetensors"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(ZooError, match=f"{victim.name}.*zoo check"):
        merge(tmp_path / "dst", [tiny])


def test_check_reports_network_rows_without_their_units_row(small_zoo, small_recipe, tmp_path):
    """Rows whose units row is gone (an edited index) checked OK, yet a merge skipped that unit: its networks were
    silently missing from the merged zoo."""
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.execute("DELETE FROM units WHERE unit = 1")
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok and rep.repairable == [1]
    assert any("unit 1" in p and "no units row" in p for p in rep.problems), rep.problems
    assert rep.repair and "metanet zoo build" in rep.repair
    build(small_recipe, z, progress=False)  # what the hint says: the unit is rebuilt, bit-identically
    with Zoo(z) as zoo:
        assert zoo.check().ok
    assert rows(z) == rows(small_zoo) and shard_bytes(z) == shard_bytes(small_zoo)


def test_merge_into_itself_is_refused_and_not_counted_as_a_repair(small_zoo, tmp_path):
    """merge(dst, [dst]) with a broken unit dropped it and reported it repaired ("copied 0 units ... of the copied,
    1 replaced a missing or corrupt shard"): its networks were lost and the zoo then checked OK."""
    z = _copy(small_zoo, tmp_path / "dst")
    (z / "shards" / "00001.safetensors").unlink()
    n = len(rows(z))
    with pytest.raises(ZooError, match="destination .* itself"):
        merge(z, [z])
    with pytest.raises(ZooError, match="destination .* itself"):
        merge(z, str(z) + "/")
    assert len(rows(z)) == n  # nothing dropped
    with Zoo(z) as zoo:
        assert not zoo.check().ok  # still reported, still repairable
    # the destination among real sources (a glob matching it) is skipped; the others repair it
    result = merge(z, [z, small_zoo])
    assert result["units_repaired"] == 1 and result["units_copied"] == 1
    assert rows(z) == rows(small_zoo) and shard_bytes(z) == shard_bytes(small_zoo)
