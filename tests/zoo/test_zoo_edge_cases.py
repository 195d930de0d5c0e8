"""Awkward but legitimate inputs to the zoo: Python-built recipes, odd paths, read-only and half-created zoos,
ids and filters of the wrong kind. Each must work, or fail with a MetanetError that names the problem."""

from __future__ import annotations

import copy
import os
import sqlite3

import numpy as np
import pytest
import yaml

from metanet.errors import RecipeError, ZooError
from metanet.zoo import Zoo, build, load_recipe, merge
from metanet.zoo import store as store_mod
from metanet.zoo.store import Store


def test_recipe_mapping_with_numpy_scalars_and_tuples_builds(small_recipe, tmp_path):
    # a recipe built in Python: validation accepted np.float64, then writing recipe.yaml raised a RepresenterError
    plain = load_recipe(copy.deepcopy(small_recipe))
    d = copy.deepcopy(small_recipe)
    d["count"] = np.int64(d["count"])
    d["train"]["dropout"] = [np.float64(0.0), np.float64(0.2)]
    d["train"]["init_scale"] = {"uniform": (0.8, 1.2)}
    d["tasks"] = tuple(d["tasks"])
    r = load_recipe(d)
    assert r.fingerprint() == plain.fingerprint() and r.count == plain.count
    assert yaml.safe_load(yaml.safe_dump(r.to_dict())) == plain.to_dict()
    out = tmp_path / "z"
    build(d, out, limit=1, progress=False)
    assert load_recipe(out / "recipe.yaml").fingerprint() == plain.fingerprint()  # the repair hint's recipe resumes


def test_recipe_value_that_is_no_yaml_value_names_the_key(small_recipe):
    # the description was str()-ed and accepted, then yaml.safe_dump of the recipe failed in the build
    d = copy.deepcopy(small_recipe)
    d["description"] = object()
    with pytest.raises(RecipeError, match=r"'description'.*not a recipe value"):
        load_recipe(d)


def test_recipe_description_null_is_empty_and_a_list_is_refused(small_recipe):
    d = copy.deepcopy(small_recipe)
    d["description"] = None  # `description:` with nothing after it
    assert load_recipe(d).description == ""
    d["description"] = ["a", "b"]
    with pytest.raises(RecipeError, match="'description' must be text"):
        load_recipe(d)


def test_recipe_file_name_with_a_space_and_no_name_key_says_to_add_one(small_recipe, tmp_path):
    d = copy.deepcopy(small_recipe)
    del d["name"]
    path = tmp_path / "my zoo.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(RecipeError, match=r"no 'name' key and its file name 'my zoo'.*name: "):
        load_recipe(path)
    d["name"] = "my-zoo"
    path.write_text(yaml.safe_dump(d))
    assert load_recipe(path).name == "my-zoo"


@pytest.mark.parametrize("index", [-1, 8, 10**20, 1.0, True])
def test_sample_run_outside_the_recipe_is_an_error(small_recipe, index):
    r = load_recipe(small_recipe)  # count 8
    with pytest.raises(RecipeError, match=r"run index .* out of range.*runs 0\.\.7"):
        r.sample_run(index)
    assert r.sample_run(np.int64(7)).to_dict() == r.runs()[7].to_dict() | {"first_id": 0}


def test_build_or_merge_into_a_file_is_a_zoo_error(small_recipe, small_zoo, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ZooError, match="cannot create the zoo directory"):
        build(small_recipe, f, limit=1, progress=False)
    with pytest.raises(ZooError, match="cannot create the zoo directory"):
        merge(f, [small_zoo])
    assert f.read_text() == "x"


def test_read_only_zoo_is_a_zoo_error_for_writers(small_zoo, tmp_path, monkeypatch):
    # (as root a chmod does not stop writes: simulate the read-only .lock)
    real_open = os.open

    def ro_open(path, *a, **k):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(store_mod.os, "open", ro_open)
    with Store(small_zoo, create=True) as s:
        with pytest.raises(ZooError, match="read-only"):
            s.lock()


def test_empty_index_of_a_starting_build_says_so(tmp_path):
    # the build creates index.sqlite, then its tables: a reader in between read "not a metanet zoo index"
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "index.sqlite").write_bytes(b"")
    with pytest.raises(ZooError, match="is empty: a build is starting"):
        Zoo(tmp_path / "z")


def test_schema_is_created_in_one_transaction(tmp_path, monkeypatch):
    # a reader must never see 'nets' without 'units' (it would then create the missing tables itself)
    traced: list[str] = []
    real = sqlite3.connect

    def connect(*a, **k):
        c = real(*a, **k)
        c.set_trace_callback(traced.append)
        return c

    monkeypatch.setattr(store_mod.sqlite3, "connect", connect)
    Store(tmp_path / "z", create=True).close()
    stmts = [s.strip().split()[0].upper().rstrip(";") for s in traced if s.strip()]
    creates = [i for i, s in enumerate(stmts) if s == "CREATE"]
    assert creates, traced
    assert "BEGIN" in stmts[: creates[0]] and "COMMIT" in stmts[creates[-1]:]
    traced.clear()
    Store(tmp_path / "z", create=True).close()  # an existing zoo is not written to on open
    assert not [s for s in traced if s.strip().upper().startswith(("CREATE", "BEGIN"))]


def test_merge_takes_one_source_path(small_zoo, tmp_path):
    res = merge(tmp_path / "m", small_zoo)  # "/ is not a zoo": the path was iterated character by character
    assert res["units_copied"] >= 1 and len(Zoo(tmp_path / "m")) == len(Zoo(small_zoo))
    res = merge(tmp_path / "m", str(small_zoo))
    assert res["units_copied"] == 0


@pytest.mark.parametrize("bad", [[0.5], [True], 3, None, "12"])
def test_stacked_refuses_ids_that_are_not_integers(small_zoo, bad):
    # int(2.7) stacked network 2, int(True) network 1; a single id was a raw TypeError
    zoo = Zoo(small_zoo)
    with pytest.raises(ZooError, match="stacked()"):
        zoo.stacked(bad)


def test_stacked_accepts_integer_like_ids(small_zoo):
    zoo = Zoo(small_zoo)
    ids = [n.id for n in zoo.select(arch=zoo.archs[0])][:2]
    _, p = zoo.stacked(ids)
    for other in (np.array(ids), [float(i) for i in ids], [str(i) for i in ids]):
        _, q = zoo.stacked(other)
        assert all((p[k] == q[k]).all() for k in p)


def test_dataset_typo_names_the_valid_arguments(small_zoo):
    zoo = Zoo(small_zoo)
    with pytest.raises(ZooError, match=r"\['splt'\].*split, target.*task, arch"):
        zoo.dataset(splt="test")
    assert len(zoo.dataset(split="all", final=True)) == len(zoo.select(final=True))
