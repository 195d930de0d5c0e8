"""Round 28: boolean indices of a ``ZooDataset`` (a list of bools is a mask, a lone bool is refused), bad
``filters`` / ``transform`` named at construction, and the reader's ``zoo_graphs`` naming bad fractions, seeds and
list arguments instead of raw TypeErrors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, ZooError
from metanet.reader.data import zoo_graphs
from metanet.zoo import Zoo, ZooDataset


def test_a_list_of_bools_is_a_mask_like_a_bool_tensor(small_zoo):
    """A list of bools was read as positions (True -> item 1, False -> item 0): [True] * n gave n copies of item 1."""
    with Zoo(small_zoo) as zoo:
        ds = zoo.dataset(split="all")
        n = len(ds)
        mask = [False] * n
        mask[2] = mask[-1] = True
        want = [ds.ids[2], ds.ids[-1]]
        assert ds[mask].ids == want
        assert ds[tuple(mask)].ids == want
        assert ds[mask].ids == ds[torch.tensor(mask)].ids == ds[np.array(mask)].ids
        assert ds.index_select(mask).ids == want
        assert ds[[True] * n].ids == ds.ids
        assert int(ds[mask][1].zoo_id) == ds.ids[-1]
        with pytest.raises(IndexError, match=f"boolean mask of 2 entries does not fit a dataset of {n} networks"):
            ds[[True, False]]


@pytest.mark.parametrize("idx", [True, False, torch.tensor(True), np.array(False), [True, 2], [1, False]])
def test_a_lone_bool_is_not_an_index(small_zoo, idx):
    """dataset[True] silently gave item 1 (and False item 0); a bool among positions was read as 1 / 0."""
    with Zoo(small_zoo) as zoo:
        ds = zoo.dataset(split="all")
        with pytest.raises(IndexError, match=f"is not a dataset index; .*boolean mask of {len(ds)} entries"):
            ds[idx]
        if isinstance(idx, bool):
            with pytest.raises(IndexError, match="is not a dataset index"):
                ds.target(idx)


def test_integer_indices_still_work(small_zoo):
    with Zoo(small_zoo) as zoo:
        ds = zoo.dataset(split="all")
        assert int(ds[1].zoo_id) == ds.ids[1] and int(ds[-1].zoo_id) == ds.ids[-1]
        assert ds[[1, 0]].ids == [ds.ids[1], ds.ids[0]] and ds[[]].ids == []


@pytest.mark.parametrize("filters", ["task", ["task"], 3])
def test_filters_that_are_not_a_dict_are_named(small_zoo, filters):
    """ZooDataset(zoo, filters="task") raised dict()'s bare ValueError ('dictionary update sequence element...')."""
    with pytest.raises(ZooError, match="dataset filters .* must be a dict of Zoo.select\\(\\) filters"):
        ZooDataset(small_zoo, split="all", filters=filters)


def test_a_transform_that_is_not_callable_is_named_at_construction(small_zoo):
    """transform=5 was accepted; the first access (maybe in a DataLoader worker) raised 'int' is not callable."""
    with Zoo(small_zoo) as zoo:
        with pytest.raises(ZooError, match="dataset transform 5 is not callable"):
            zoo.dataset(split="all", transform=5)
        ds = zoo.dataset(split="all", transform=lambda g: g)  # a callable stays fine
        assert int(ds[0].zoo_id) == ds.ids[0]


@pytest.mark.parametrize("fractions", [0.8, None])
def test_zoo_graphs_names_fractions_that_are_not_three_numbers(tiny_zoo, fractions):
    """fractions=0.8 was a raw TypeError ('float' object is not iterable) from tuple()."""
    with pytest.raises(ZooError, match="fractions .* must be three non-negative numbers summing to 1"):
        zoo_graphs(tiny_zoo, "val", fractions=fractions, roles=False, max_nets=1)


@pytest.mark.parametrize("seed", ["x", None, 1.5, -5])
@pytest.mark.parametrize("split", ["all", "heldout"])
def test_zoo_graphs_checks_the_seed_for_every_split(tiny_zoo, seed, split):
    """With split "all" the seed was never checked: a bad one was a raw TypeError from the max_nets sample
    (seed + 17), and a negative one was accepted though train/val/test refuse it."""
    with pytest.raises(ZooError, match="split seed .* must be an integer >= 0"):
        zoo_graphs(tiny_zoo, split, seed=seed, roles=False, max_nets=1)


@pytest.mark.parametrize("name, value", [("exclude_archs", None), ("exclude_archs", 3), ("tasks", 5)])
def test_zoo_graphs_names_list_arguments_that_are_not_lists(tiny_zoo, name, value):
    """exclude_archs=None or tasks=5 was a raw TypeError ('... object is not iterable')."""
    with pytest.raises(ConfigError, match=f"zoo_graphs {name} must be a list of names, got {value}"):
        zoo_graphs(tiny_zoo, "val", roles=False, max_nets=1, **{name: value})


def test_zoo_graphs_defaults_and_lists_still_work(tiny_zoo):
    a = zoo_graphs(tiny_zoo, "val", roles=False, max_nets=2)
    b = zoo_graphs(tiny_zoo, "val", tasks=None, exclude_archs=[], fractions=[0.8, 0.1, 0.1], roles=False,
                   max_nets=2, seed=np.int64(0))
    assert [int(g.zoo_id) for g in a] == [int(g.zoo_id) for g in b] and len(a) == 2


def test_a_dataset_of_a_zoo_opened_by_a_relative_path_unpickles_after_a_chdir(small_zoo, tmp_path, monkeypatch):
    """The pickle kept the zoo's path as given: a dataset of Zoo("small") did not reopen in a process whose working
    directory differed (a worker after os.chdir, a Hydra run directory): 'small is not a zoo'."""
    import pickle

    monkeypatch.chdir(small_zoo.parent)
    with Zoo(small_zoo.name) as zoo:
        ds = zoo.dataset(split="all")[[1, 0]]
        blob = pickle.dumps(ds)
    monkeypatch.chdir(tmp_path)
    back = pickle.loads(blob)
    assert back.ids == ds.ids
    assert int(back[0].zoo_id) == ds.ids[0]
