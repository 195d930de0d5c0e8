"""`ZooDataset` as a PyTorch Geometric user expects it: PyG ``Dataset`` indexing and subsets (0-d and integer arrays
of any width, boolean masks as lists; a lone bool is no index), clear index errors, bad ``filters`` / ``transform``
named at construction, pickling for ``DataLoader`` workers (also of a zoo opened by a relative path), label spaces
that agree across splits (``num_classes`` of an empty dataset too), splits of a partial zoo that warn they will
change (the warning pointing at the user's call, also through ``Zoo.dataset``), and batches of mixed
architectures."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

import metanet
from metanet.errors import ZooError
from metanet.graph import from_graph
from metanet.nets import ACTIVATIONS
from metanet.zoo import Zoo, ZooDataset, build
from metanet.zoo.recipe import OPTIMIZERS


@pytest.fixture
def mixed_zoo(small_recipe, tmp_path):
    """A zoo of MLPs and CNNs on digits (edge widths 1 and 9); builds in well under a second."""
    r = small_recipe
    r.update(name="mixed", count=4, checkpoints=[0, 1])
    r["train"]["epochs"] = 1
    r["arch"] = {"family": ["mlp", "cnn"], "depth": 1, "width": 4, "activation": "relu"}
    out = tmp_path / "mixed"
    build(r, out, progress=False)
    zoo = Zoo(out)
    assert {n.arch.family for n in zoo} == {"mlp", "cnn"}
    return zoo


def _item_ids(ds) -> list[int]:
    return [int(ds[i].zoo_id) for i in range(len(ds))]


def test_subsets_and_shuffles_describe_their_own_items(small_zoo):
    ds = Zoo(small_zoo).dataset(split="all", target="test_acc")
    ids, n = ds.ids, len(ds)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[[1, 4, 5]] = True
    for idx, want in [
        (slice(2, 6), ids[2:6]),
        ([0, 3, -1], [ids[0], ids[3], ids[-1]]),
        (np.array([0, 3, 5]), [ids[0], ids[3], ids[5]]),
        (torch.tensor([5, 0]), [ids[5], ids[0]]),
        (mask, [ids[1], ids[4], ids[5]]),
        (mask.numpy(), [ids[1], ids[4], ids[5]]),
    ]:
        sub = ds[idx]
        assert isinstance(sub, ZooDataset) and len(sub) == len(want)
        assert sub.ids == want == _item_ids(sub)  # ids used to list every network of the parent
        assert [m.id for m in sub.nets] == want
        for i in range(len(sub)):
            assert torch.equal(sub.target(i), ds.target(ids.index(want[i])))
            assert torch.equal(sub.target(i), sub[i].y)
    sub = ds[2:8][[1, 3]]  # a subset of a subset
    assert sub.ids == [ids[3], ids[5]] == _item_ids(sub)
    shuffled, perm = ds.shuffle(return_perm=True)
    assert shuffled.ids == [ids[int(p)] for p in perm]
    assert [int(shuffled[i].zoo_id) for i in range(4)] == shuffled.ids[:4]
    assert sorted(shuffled.ids) == sorted(ids) and len(ds) == n  # the parent is unchanged
    assert torch.equal(ds[-1].y, ds.target(n - 1)) and int(ds[-1].zoo_id) == ids[-1]
    assert int(ds[np.int64(2)].zoo_id) == int(ds[torch.tensor(2)].zoo_id) == ids[2]


def test_out_of_range_indices_are_clear_index_errors(small_zoo):
    ds = Zoo(small_zoo).dataset(split="all")
    n = len(ds)
    for bad in (n, -n - 1, np.int64(n), torch.tensor(n)):
        with pytest.raises(IndexError, match=f"out of range for a dataset of {n} networks"):
            ds[bad]
    with pytest.raises(IndexError, match=f"index {n} is out of range"):
        ds[[0, n]]
    with pytest.raises(IndexError, match=f"index {n} is out of range"):
        ds[torch.tensor([0, n])]
    with pytest.raises(IndexError, match="out of range for a dataset of 2 networks"):
        ds[:2][2]
    with pytest.raises(IndexError, match="out of range"):
        ds.target(n)
    with pytest.raises(IndexError, match="boolean mask of 3 entries"):
        ds[torch.tensor([True, False, True])]  # PyG would take it as a prefix
    empty = Zoo(small_zoo).dataset(split="all", min_acc=2.0)
    with pytest.raises(IndexError, match="it is empty"):
        empty[0]
    assert len(empty) == 0 and len(empty.shuffle()) == 0


def test_dataset_pickles_for_dataloader_workers(small_zoo):
    ds = Zoo(small_zoo).dataset(split="all", target=["test_acc", "epoch"])[[4, 1, 7]]
    for clone in (pickle.loads(pickle.dumps(ds)), copy.deepcopy(ds)):
        assert clone.ids == ds.ids and len(clone) == 3
        a, b = clone[1], ds[1]
        assert torch.equal(a.edge_attr, b.edge_attr) and torch.equal(a.y, b.y)
    assert copy.copy(ds).zoo is ds.zoo  # subsets share the open zoo
    loader = DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert [b.zoo_id.tolist() for b in loader] == [ds.ids[:2], ds.ids[2:]]


def test_num_classes_is_the_label_space_in_every_split(small_zoo):
    zoo = Zoo(small_zoo)
    want = {"task": len(zoo.tasks), "activation": len(ACTIVATIONS), "optimizer": len(OPTIMIZERS)}
    for target, k in want.items():
        for split in ("train", "val", "test", "all"):
            ds = zoo.dataset(split=split, target=target)
            assert ds.num_classes == k
            assert all(0 <= int(ds.target(i)) < k for i in range(len(ds)))
    # only relu nets: PyG's 1 + max label would say 2, though labels index all of ACTIVATIONS
    assert zoo.dataset(split="all", target="activation", arch=[a for a in zoo.archs if "relu" in a]).num_classes \
        == len(ACTIVATIONS)


def test_targets_batch_into_what_a_loss_takes(small_zoo):
    zoo = Zoo(small_zoo)
    one = next(iter(DataLoader(zoo.dataset(split="all", target="test_acc"), batch_size=5)))
    assert one.y.shape == (5,) and one.y.dtype == torch.float32
    assert torch.nn.functional.mse_loss(torch.zeros(5), one.y).shape == ()
    many = next(iter(DataLoader(zoo.dataset(split="all", target=["test_acc", "log_lr"]), batch_size=5)))
    assert many.y.shape == (5, 2) and many.y.dtype == torch.float32
    cls = next(iter(DataLoader(zoo.dataset(split="all", target="optimizer"), batch_size=5)))
    assert cls.y.shape == (5,) and cls.y.dtype == torch.long
    assert one.zoo_id.shape == one.run.shape == one.epoch.shape == one.test_acc.shape == (5,)
    for g in one.to_data_list():
        assert g.y.shape == (1,) and g.zoo_id.shape == (1,)


def test_mlps_and_cnns_of_a_zoo_batch_together(mixed_zoo):
    ds = mixed_zoo.dataset(split="all")
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))  # used to fail in torch.cat: widths 1 and 9
    assert ds.edge_dim == 9 == batch.edge_attr.shape[1]  # 3x3 kernels; the MLP graphs are zero-padded to it
    assert batch.num_graphs == len(ds) and len({a for a in batch.arch}) == 2
    graphs = batch.to_data_list()
    assert batch.num_nodes == sum(g.num_nodes for g in graphs)
    for g, n in zip(graphs, ds.nets):
        assert g.num_nodes == ds[ds.ids.index(n.id)].num_nodes
        state = mixed_zoo.state_dict(n.id)
        decoded = from_graph(g).state_dict()
        assert all(torch.equal(decoded[k], v) for k, v in state.items())
    # every split and filter gets the zoo-wide width, so their batches agree
    assert mixed_zoo.dataset(split="all", family="mlp")[0].edge_attr.shape[1] == 9
    assert mixed_zoo.dataset(split="all", edge_dim=16)[0].edge_attr.shape[1] == 16
    with pytest.raises(ZooError, match="edge_dim"):
        mixed_zoo.dataset(split="all", edge_dim=4)


def test_zoo_dataset_takes_a_transform(small_zoo):
    def mark(g):
        g.marked = torch.ones(1)
        return g

    ds = Zoo(small_zoo).dataset(split="all", transform=mark)  # used to reach select(): unexpected keyword
    assert ds.transform is mark and torch.equal(ds[0].marked, torch.ones(1)) and "marked" in ds[[0, 1]][1]


def test_graphs_are_the_zoos_encoding(small_zoo):
    """The dataset's graphs are exactly ``Zoo.graph`` (a single-family zoo keeps its natural edge width)."""
    zoo = Zoo(small_zoo)
    ds = zoo.dataset(split="all")
    for i in (0, len(ds) // 2, -1):
        g, ref = ds[i], zoo.graph(ds.ids[i])
        for k in ref.keys():
            assert (torch.equal(g[k], ref[k]) if torch.is_tensor(ref[k]) else g[k] == ref[k]), k
        assert g.validate()
    assert getattr(ds, "edge_dim", 1) == 1
    assert Batch.from_data_list([ds[0], ds[1]]).validate()


def test_same_seed_same_split_and_no_run_on_two_sides(small_zoo):
    zoo = Zoo(small_zoo)
    for seed in (0, 5):
        sides = {s: zoo.dataset(split=s, seed=seed, fractions=(0.5, 0.25, 0.25)) for s in ("train", "val", "test")}
        again = {s: zoo.dataset(split=s, seed=seed, fractions=(0.5, 0.25, 0.25)) for s in sides}
        assert all(sides[s].ids == again[s].ids for s in sides)
        runs = [{n.run for n in d.nets} for d in sides.values()]
        assert not (runs[0] & runs[1]) and not (runs[0] & runs[2]) and not (runs[1] & runs[2])
        assert sorted(i for d in sides.values() for i in d.ids) == [n.id for n in zoo]


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


def test_split_of_a_partial_zoo_warns_once_that_it_will_change(partial_tiny_zoo):
    """The split is drawn over the runs present: a partial zoo split silently differently from the finished one
    (a test run could later land in train). Now it warns, once, naming the missing runs."""
    with Zoo(partial_tiny_zoo) as zoo:
        with pytest.warns(UserWarning, match=r"4 of its recipe's 96 runs \(92 missing.*will change when the build "
                                              r"completes"):
            ds = zoo.dataset(split="test")
        assert {n.run for n in ds.nets} <= {0, 1, 2, 3}
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # once per zoo: the other splits do not repeat it
            zoo.dataset(split="train")
            zoo.dataset(split="val", target="backdoor")
            zoo.dataset(split="all")


def test_split_of_a_complete_zoo_does_not_warn(small_zoo):
    with Zoo(small_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for split in ("train", "val", "test"):
            zoo.dataset(split=split)


def test_split_of_the_complete_tiny_zoo_is_unchanged(tiny_zoo):
    """The warning must not change how a complete zoo splits (the shipped reader's benchmark depends on it)."""
    from metanet.zoo.dataset import split_runs

    with Zoo(tiny_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        sides = split_runs([n.run for n in zoo], (0.8, 0.1, 0.1), 0)
        for split in ("train", "val", "test"):
            ds = zoo.dataset(split=split)
            assert ds.ids == [n.id for n in zoo if n.run in sides[split]]
        assert len(zoo.dataset("train").ids) == 308 and len(zoo.dataset("test").ids) == 40


@pytest.mark.parametrize("target", ["test_acc", ["test_acc", "epoch"], "backdoor"])
def test_num_classes_of_an_empty_dataset_is_zero(small_zoo, target):
    """An empty dataset (a filter matching nothing) with a float target raised PyG's bare IndexError ('list index
    out of range'); PyG's value for no labels is 0."""
    with Zoo(small_zoo) as zoo:
        ds = zoo.dataset(split="all", target=target, run=[])
        assert len(ds) == 0 and ds.num_classes == 0
        assert zoo.dataset(split="all", target=target)[:0].num_classes == 0  # an empty subset too
        assert zoo.dataset(split="all", target="task", run=[]).num_classes == 1  # class targets: the label space


def test_partial_zoo_split_warning_points_at_the_users_call(tmp_path):
    from metanet.zoo import build as build_zoo

    zoo_dir = tmp_path / "tiny slice"
    build_zoo("tiny", zoo_dir, limit=2, progress=False)
    zoo = metanet.Zoo(zoo_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoo.dataset(split="train", target="test_acc")  # via Zoo.dataset: stacklevel=3 named metanet/zoo/zoo.py
    split = [w for w in caught if "split is drawn over the runs present" in str(w.message)]
    assert len(split) == 1 and split[0].filename == __file__
    zoo.close()
