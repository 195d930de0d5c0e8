"""Fuzz: zoo recipes (random mappings and random YAML text) and zoos whose shards or index were corrupted or
truncated. Everything is a RecipeError / ZooError (MetanetErrors), and an interrupted shard write leaves neither a
half-written shard nor an index row."""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path

import pytest
import yaml
from fuzz_helpers import fuzz_settings, only_metanet_errors
from hypothesis import example, given
from hypothesis import strategies as st

from metanet.errors import MetanetError, RecipeError, ZooError
from metanet.zoo import Zoo, load_recipe
from metanet.zoo.store import Store

# --- recipes -----------------------------------------------------------------------------------------------------
leaf = (st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8)
        | st.sampled_from(["digits", "mnist", "relu", "mlp", "cnn", "adam", "square", "corner", "random", -1, 0, 0.5]))
dist = (leaf | st.lists(leaf, max_size=3)
        | st.dictionaries(st.sampled_from(["choice", "uniform", "log_uniform", "int", "bogus"]),
                          st.lists(leaf, max_size=3) | leaf, min_size=1, max_size=2))
SECTIONS = {
    "arch": ["family", "depth", "width", "same_width", "activation", "skip", "bias", "kernel", "stride", "junk"],
    "train": ["optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs", "init_scale", "dropout",
              "label_noise", "train_examples", "junk"],
    "eval": ["train_examples", "junk"],
    "backdoor": ["fraction", "poison_rate", "kind", "size", "location", "target", "junk"],
}


@st.composite
def recipes(draw, base: dict) -> dict:
    """A valid recipe with a few keys replaced by random values (wrong types, negative numbers, unknown keys)."""
    r = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", *SECTIONS]))
        if where == "top":
            key = draw(st.sampled_from(["name", "description", "seed", "count", "population", "tasks", "checkpoints",
                                        "arch", "train", "eval", "backdoor", "unknown"]))
            r[key] = draw(dist | st.lists(st.sampled_from(["digits", "mnist[3,8]", "nope", "digits+permute(2)"]),
                                          max_size=3))
        else:
            sec = r.get(where)
            if not isinstance(sec, dict):
                sec = r[where] = {}
            sec[draw(st.sampled_from(SECTIONS[where]))] = draw(dist)
    if draw(st.booleans()):
        r.pop(draw(st.sampled_from(sorted(r))), None)
    return r


def _check_recipe(source) -> None:
    r = only_metanet_errors(lambda: load_recipe(source))
    if isinstance(r, MetanetError):
        assert isinstance(r, RecipeError), repr(r)
        return
    assert load_recipe(r.to_dict()).fingerprint() == r.fingerprint()
    for run in r.runs(limit=2):
        assert run.arch.num_parameters() >= 1


@fuzz_settings(250)
@given(data=st.data())
@example(data=None)
def test_random_recipe_mappings(tiny_recipe, data):
    if data is None:  # the explicit cases: unhashable choices, NaN ranges, huge counts
        for bad in ({"arch": {"activation": [["relu"]]}}, {"arch": {"family": [{"a": 1}]}},
                    {"train": {"lr": {"uniform": [math.nan, 1]}}}, {"train": {"optimizer": [["adam"]]}},
                    {"backdoor": {"kind": [["square"]], "location": [{}]}}, {"count": 10**30},
                    {"train": {"epochs": {"int": [1, 10**30]}}}, {"tasks": [["digits"]]}):
            r = copy.deepcopy(tiny_recipe)
            for k, v in bad.items():
                r[k] = {**r.get(k, {}), **v} if isinstance(v, dict) and isinstance(r.get(k), dict) else v
            _check_recipe(r)
        return
    _check_recipe(data.draw(recipes(tiny_recipe)))


@fuzz_settings(60)
@given(d=st.dictionaries(st.text(max_size=6), dist, max_size=6) | leaf | st.lists(leaf, max_size=3))
def test_random_top_level(d):
    r = only_metanet_errors(lambda: load_recipe(d) if isinstance(d, dict) else load_recipe(yaml.safe_dump(d)))
    assert isinstance(r, RecipeError) or not isinstance(r, MetanetError)


@fuzz_settings(120)
@given(text=st.text(max_size=200) | st.binary(max_size=200),
       pieces=st.lists(st.sampled_from(["count: 2\n", "tasks: [digits]\n", "arch: {width: -3}\n", "seed: -1\n",
                                        "train:\n  lr: {log_uniform: [0, 1]}\n", "- a\n", "{", ": :\n", "\t", "&a [*a]\n",
                                        "count: !!python/object:os.system ls\n", "tasks: digits\n", "count: 1e999\n",
                                        "? [a]\n: 1\n", "bogus: 1\n", "eval: {train_examples: 0}\n"]), max_size=6))
def test_random_recipe_yaml(tmp_path_factory, text, pieces):
    p = tmp_path_factory.mktemp("yaml") / "r.yaml"
    body = "".join(pieces)
    if isinstance(text, bytes):
        p.write_bytes(body.encode() + text)
    else:
        p.write_text(body + text)
    _check_recipe(p)
    _check_recipe(str(p))


@fuzz_settings(30)
@given(name=st.text(max_size=20) | st.sampled_from(["tiny", "../tiny", "tiny.yaml", "", "\x00", "/", "zoo/tiny"]))
def test_recipe_names(name):
    r = only_metanet_errors(lambda: load_recipe(name, check_tasks=False))
    assert isinstance(r, RecipeError) or not isinstance(r, MetanetError)


# --- corrupted zoos ----------------------------------------------------------------------------------------------
def _copy(zoo: Path, tmp: Path) -> Path:
    dst = tmp / "zoo"
    shutil.copytree(zoo, dst)
    return dst


def _read_everything(path: Path) -> None:
    """Every read a user makes: each works or raises ZooError."""

    def ok(fn):
        r = only_metanet_errors(fn)
        if isinstance(r, MetanetError):
            assert isinstance(r, ZooError), repr(r)
        return r

    zoo = ok(lambda: Zoo(path))
    if isinstance(zoo, MetanetError):
        return
    ids = ok(lambda: [n.id for n in zoo])
    if isinstance(ids, MetanetError):
        return
    ok(zoo.summary)
    rep = ok(zoo.check)
    for i in ids[:4]:
        ok(lambda: zoo.load(i))
        ok(lambda: zoo.graph(i))
    if ids:
        ok(lambda: zoo.stacked(ids[:2]))
        ok(lambda: zoo.stacked(ids))
    ok(lambda: zoo.load(10**9))
    if not isinstance(rep, MetanetError) and rep.ok:
        for i in ids:  # a zoo that checks out loads completely
            zoo.load(i)
    zoo.close()


@fuzz_settings(40)
@given(cut=st.floats(0, 1, exclude_max=True), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                                     st.integers(0, 255)), max_size=6),
       header=st.booleans(), which=st.integers(0, 3), how=st.sampled_from(["truncate", "flip", "random", "delete",
                                                                          "empty"]))
def test_corrupted_shard(fuzz_zoo, tmp_path_factory, cut, flips, header, which, how):
    z = _copy(fuzz_zoo, tmp_path_factory.mktemp("cz"))
    shards = sorted((z / "shards").glob("*.safetensors"))
    shard = shards[which % len(shards)]
    data = bytearray(shard.read_bytes())
    hlen = 8 + int.from_bytes(data[:8], "little")
    if how == "truncate":
        data = data[: int(len(data) * cut)]
    elif how == "flip":
        span = hlen if header else len(data)
        for pos, byte in flips:
            data[int(pos * span)] = byte
    elif how == "random":
        data = bytearray(bytes(b for _, b in flips) * 7)
    elif how == "empty":
        data = bytearray()
    if how == "delete":
        shard.unlink()
    else:
        shard.write_bytes(bytes(data))
    _read_everything(z)


@fuzz_settings(25)
@given(cut=st.floats(0, 1, exclude_max=True), noise=st.binary(max_size=64),
       how=st.sampled_from(["truncate", "noise", "empty", "delete", "sql"]),
       sql=st.sampled_from(["DROP TABLE units", "DROP TABLE nets", "UPDATE nets SET arch='{'", "UPDATE nets SET arch='[]'",
                            "UPDATE nets SET hparams='nope'", "UPDATE nets SET shard='../../etc/passwd'",
                            "UPDATE nets SET arch='{\"family\": \"mlp\", \"widths\": [100000, 100000, 10]}'",
                            "UPDATE nets SET backdoor='{'", "UPDATE nets SET test_acc='abc'", "UPDATE nets SET id=id+100",
                            "DELETE FROM units", "UPDATE nets SET shard=NULL", "UPDATE nets SET epoch=-1"]))
def test_corrupted_index(fuzz_zoo, tmp_path_factory, cut, noise, how, sql):
    import sqlite3

    z = _copy(fuzz_zoo, tmp_path_factory.mktemp("ci"))
    db = z / "index.sqlite"
    if how == "sql":
        con = sqlite3.connect(db)
        try:
            con.execute("PRAGMA ignore_check_constraints = 1")
            con.execute(sql)
            con.commit()
        except sqlite3.DatabaseError:
            return  # NOT NULL constraints refuse it: not a corruption we can make this way
        finally:
            con.close()
    elif how == "truncate":
        db.write_bytes(db.read_bytes()[: int(db.stat().st_size * cut)])
    elif how == "noise":
        data = bytearray(db.read_bytes())
        for i, b in enumerate(noise):
            data[(i * 7919 + b * 31) % len(data)] = b
        db.write_bytes(bytes(data))
    elif how == "empty":
        db.write_bytes(b"")
    else:
        db.unlink()
    _read_everything(z)


def test_zoo_check_finds_a_corrupt_shard(fuzz_zoo, tmp_path):
    z = _copy(fuzz_zoo, tmp_path)
    shard = sorted((z / "shards").glob("*.safetensors"))[0]
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0xFF  # a weight's bytes: still readable, but not what was stored
    shard.write_bytes(bytes(data))
    with Zoo(z) as zoo:
        rep = zoo.check()
    assert not rep.ok and any("sha256" in p for p in rep.problems)


# --- interrupted writes ------------------------------------------------------------------------------------------
@fuzz_settings(6)
@given(unit=st.integers(0, 50), existing=st.booleans())
def test_interrupted_shard_write(fuzz_zoo, tmp_path_factory, monkeypatch_zoo, unit, existing):
    import metanet.io
    import metanet.zoo.store as store_mod

    z = _copy(fuzz_zoo, tmp_path_factory.mktemp("iw"))
    target = z / store_mod.shard_name(unit)
    with Store(z) as s:
        done = s.done_units()
        rows_before = len(s.rows())
    if unit in done:
        return
    if existing:  # an orphan shard of an earlier interrupted build: must stay as it was
        target.write_bytes(b"orphan")
    real = metanet.io.atomic_write

    def failing(path, write):
        def half(tmp):
            write(tmp)
            data = Path(tmp).read_bytes()
            Path(tmp).write_bytes(data[: len(data) // 2])
            raise OSError("no space left on device")

        return real(path, half)

    with monkeypatch_zoo.context() as m:
        m.setattr(store_mod, "atomic_write", failing)
        with Store(z) as s, pytest.raises(ZooError, match="no space"):  # named as the shard it could not write
            s.write_unit(unit, b"x" * 1000, [], seconds=0.0)
    assert (target.read_bytes() == b"orphan") if existing else not target.exists()
    assert not list((z / "shards").glob(".*.tmp"))
    with Store(z) as s:
        assert unit not in s.done_units() and len(s.rows()) == rows_before
    with Zoo(z) as zoo:
        assert zoo.check().ok


@pytest.fixture(scope="session")
def monkeypatch_zoo():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
