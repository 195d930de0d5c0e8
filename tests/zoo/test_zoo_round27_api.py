"""Round 27: the zoo's reading API with the index types PyTorch / numpy users pass — ``ZooDataset`` indexing by 0-d
and non-int64 integer arrays, ``id in zoo`` agreeing with ``zoo.load(id)``, ``select`` with numpy bools — and the
one integer check shared by recipes and training runs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, RecipeError
from metanet.zoo import Zoo, load_recipe
from metanet.zoo import recipe as recipe_mod
from metanet.zoo import train as train_mod


@pytest.fixture
def zoo(small_zoo):
    with Zoo(small_zoo) as z:
        yield z


def test_a_0d_numpy_index_gives_a_graph_like_a_0d_tensor(zoo):
    """ds[np.array(2)] returned a one-item subset dataset (np.isscalar of a 0-d array is False), unlike
    ds[torch.tensor(2)] and ds[2], which give the graph."""
    ds = zoo.dataset(split="all")
    g = ds[np.array(2)]
    assert int(g.zoo_id) == ds.ids[2] == int(ds[torch.tensor(2)].zoo_id)
    assert int(ds[np.array(-1)].zoo_id) == ds.ids[-1]
    with pytest.raises(IndexError, match="out of range"):
        ds[np.array(len(ds))]


@pytest.mark.parametrize("make", [
    lambda ix: np.asarray(ix, dtype=np.int32),
    lambda ix: np.asarray(ix, dtype=np.uint16),
    lambda ix: torch.tensor(ix, dtype=torch.int32),
    lambda ix: torch.tensor(ix, dtype=torch.int16),
], ids=["np.int32", "np.uint16", "torch.int32", "torch.int16"])
def test_integer_arrays_of_any_width_select_a_subset(zoo, make):
    """The docstring promised 'LongTensor / integer array' subsets; an int32 array or tensor (np.arange(n,
    dtype=np.int32), torch.randperm(n, dtype=torch.int32)) was an IndexError 'dtype long or bool'."""
    ds = zoo.dataset(split="all")
    sub = ds[make([3, 0, 5])]
    assert sub.ids == [ds.ids[3], ds.ids[0], ds.ids[5]]
    assert [int(sub[i].zoo_id) for i in range(3)] == sub.ids
    assert ds.index_select(make([1])).ids == [ds.ids[1]]
    with pytest.raises(IndexError, match="out of range"):
        ds[make([len(ds)])]


def test_a_uint8_tensor_stays_refused(zoo):
    """torch reads a uint8 index tensor as a mask: not silently taken as indices."""
    ds = zoo.dataset(split="all")
    with pytest.raises(IndexError):
        ds[torch.tensor([1], dtype=torch.uint8)]


def test_id_in_zoo_agrees_with_load(zoo):
    """`torch.tensor(3) in zoo` was False (hashed by identity) though zoo.load(torch.tensor(3)) works, `True in
    zoo` was True though load(True) is refused, and `np.array(3) in zoo` was a TypeError (unhashable)."""
    i = [n.id for n in zoo][3]
    for good in (i, np.int64(i), np.int32(i), torch.tensor(i), np.array(i), float(i), str(i)):
        assert good in zoo, good
        assert zoo.info(good).id == i
    for bad in (True, False, [i], torch.tensor([i, i]), i + 0.5, None, "x", 10**9, -1):
        assert bad not in zoo, bad


def test_select_takes_one_element_numpy_bools_as_tensors(zoo):
    """select(final=torch.tensor(True)) worked but select(final=np.array(True)) was a ZooError."""
    want = [n.id for n in zoo.select(final=True)]
    assert [n.id for n in zoo.select(final=np.array(True))] == want
    assert [n.id for n in zoo.select(final=np.array([True]))] == want
    assert [n.id for n in zoo.select(backdoor=np.array(False))] == [n.id for n in zoo]
    with pytest.raises(Exception, match="True, False or None"):
        zoo.select(final=np.array([True, False]))


# --- one integer check for recipes and training runs ------------------------------------------------------------
def test_recipes_and_runs_share_one_integer_check():
    assert train_mod._is_int is recipe_mod._is_int
    for good in (3, np.int64(3), np.int32(3), np.uint8(3)):
        assert recipe_mod._is_int(good)
    for bad in (True, np.bool_(True), 3.0, np.float64(3), "3", None, torch.tensor(3)):
        assert not recipe_mod._is_int(bad), bad


def test_numpy_integers_from_a_python_recipe_are_plain_ints(small_recipe):
    """Numpy integers are accepted wherever a Python int is (the same recipe, fingerprint and runs); bools are not."""
    r = copy.deepcopy(small_recipe)
    r.update(seed=np.int64(7), count=np.int32(8), population=np.int64(3), checkpoints=[np.int64(0), 1, np.uint8(2)])
    r["arch"]["width"] = np.int64(16)
    r["train"].update(batch_size=np.int64(64), epochs=np.int32(2), train_examples=np.int64(600))
    a, b = load_recipe(r), load_recipe(small_recipe)
    assert a.fingerprint() == b.fingerprint()
    assert [x.to_dict() for x in a.runs(3)] == [x.to_dict() for x in b.runs(3)]
    assert a.sample_run(np.int64(2)).to_dict() == a.sample_run(2).to_dict()
    with pytest.raises(RecipeError, match="out of range"):
        a.sample_run(True)
    for key, sect in (("epochs", "train"), ("batch_size", "train"), ("depth", "arch")):
        bad = copy.deepcopy(small_recipe)
        bad[sect][key] = True
        with pytest.raises(RecipeError, match=f"{sect}.{key}"):
            load_recipe(bad)


def test_training_runs_take_numpy_integers_and_refuse_bools(small_recipe):
    run = load_recipe(small_recipe).sample_run(0)
    ok = copy.deepcopy(run)
    ok.hparams.update(batch_size=np.int64(ok.hparams["batch_size"]), epochs=np.int32(ok.hparams["epochs"]))
    ok.checkpoints = [np.int64(c) for c in ok.checkpoints]
    train_mod._check_run(ok)  # accepted, as the Python ints are
    for key in ("batch_size", "epochs"):
        bad = copy.deepcopy(run)
        bad.hparams[key] = True
        with pytest.raises(ConfigError, match=key):
            train_mod._check_run(bad)
    bad = copy.deepcopy(run)
    bad.checkpoints = [False, True]
    with pytest.raises(ConfigError, match="not integers"):
        train_mod._check_run(bad)
