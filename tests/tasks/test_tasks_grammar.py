"""Task-name grammar: class subsets, permute / invert / relabel (a relabel of every class copies no split),
composition, canonical names (str(task) is a spec that gives the task back), a relabelled task's description naming
its final labels, a derived task's split of some rows (the rows of its whole split), errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks_helpers import make_idx_folder

from metanet import tasks
from metanet.errors import TaskError


def test_subset_keeps_only_listed_classes_and_remaps_in_listed_order():
    base = tasks.get("digits")
    t = tasks.get("digits[8,3]")
    assert t.num_classes == 2 and t.class_names == ["8", "3"] and t.classes == (8, 3)
    for split in tasks.SPLITS:
        bx, by = base.split(split)
        x, y = t.split(split)
        keep = (by == 8) | (by == 3)
        assert torch.equal(x, bx[keep])  # same examples, same order
        assert torch.equal(y, torch.where(by[keep] == 8, 0, 1))


def test_ranges_and_mixes():
    assert tasks.get("mnist[0-4]").class_names == ["0", "1", "2", "3", "4"]
    t = tasks.get("mnist[0-2,7]")
    assert t.classes == (0, 1, 2, 7) and t.num_classes == 4
    assert set(t.split("val")[1].tolist()) == {0, 1, 2, 3}
    f = tasks.get("fashion-mnist[7,9]")
    assert f.class_names == ["Sneaker", "Ankle boot"]
    assert f.sizes() == {"train": 11000, "val": 1000, "test": 2000}


def test_canonical_names():
    assert tasks.get("  Digits [ 3 , 8 ] + INVERT ").name == "digits[3,8]+invert"
    assert tasks.canonical_name("digits[03,8]+permute(007)") == "digits[3,8]+permute(7)"
    assert tasks.canonical_name("fashion_mnist[0-4]") == "fashion-mnist[0-4]"
    assert tasks.get("digits[3,8]+invert") is tasks.get("digits[3, 8] + invert")


def test_permute_is_one_fixed_feature_permutation_for_every_example_and_split():
    base, t = tasks.get("digits"), tasks.get("digits+permute(3)")
    perm = np.random.default_rng(3).permutation(64)  # documented contract
    assert np.array_equal(tasks.seeded_permutation(3, 64), perm)
    assert t.input_shape == base.input_shape
    for split in tasks.SPLITS:
        bx, by = base.split(split)
        x, y = t.split(split)
        assert x.shape == bx.shape and torch.equal(y, by)
        assert torch.equal(x.reshape(len(x), -1), bx.reshape(len(bx), -1)[:, perm])
    assert not torch.equal(t.split("train")[0], base.split("train")[0])


def test_permute_on_28x28_and_1d_inputs():
    for name, n in (("fashion-mnist[0,1]", 784), ("mnist1d[0,1]", 40)):
        base, t = tasks.get(name), tasks.get(name + "+permute(11)")
        bx, x = base.split("test")[0], t.split("test")[0]
        perm = np.random.default_rng(11).permutation(n)
        assert x.shape == bx.shape
        assert torch.equal(x.reshape(len(x), -1), bx.reshape(len(bx), -1)[:, perm])


def test_different_permute_seeds_differ_and_same_seed_agrees():
    a, b = tasks.get("digits+permute(1)").split("train")[0], tasks.get("digits+permute(2)").split("train")[0]
    assert not torch.equal(a, b)
    assert torch.equal(a, tasks.get("digits + permute( 1 )").split("train")[0])


def test_invert():
    base, t = tasks.get("mnist[3,8]"), tasks.get("mnist[3,8]+invert")
    for split in tasks.SPLITS:
        (bx, by), (x, y) = base.split(split), t.split(split)
        assert torch.equal(x, 1 - bx) and torch.equal(y, by)
        assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(tasks.get("mnist[3,8]+invert+invert").split("val")[0], base.split("val")[0])


def test_relabel_permutes_labels_and_class_names_consistently():
    base, t = tasks.get("fashion-mnist"), tasks.get("fashion-mnist+relabel(5)")
    perm = np.random.default_rng(5).permutation(10)
    assert not np.array_equal(perm, np.arange(10))
    (bx, by), (x, y) = base.split("val"), t.split("val")
    assert torch.equal(x, bx)
    assert torch.equal(y, torch.from_numpy(perm)[by])
    # The name a label carries is the name its examples had before.
    for old in range(10):
        assert t.class_names[perm[old]] == base.class_names[old]
        assert t.classes[perm[old]] == old
    assert sorted(t.class_names) == sorted(base.class_names)


def test_relabel_after_subset_permutes_the_subset_labels():
    t = tasks.get("digits[3,8,5]+relabel(0)")
    perm = np.random.default_rng(0).permutation(3)
    sub = tasks.get("digits[3,8,5]")
    assert torch.equal(t.split("test")[1], torch.from_numpy(perm)[sub.split("test")[1]])
    assert sorted(t.class_names) == ["3", "5", "8"]
    for i, name in enumerate(t.class_names):
        assert name == str(t.classes[i])


def test_composition_applies_in_order():
    t = tasks.get("fashion-mnist[0-4]+permute(3)+invert")
    assert t.num_classes == 5 and t.name == "fashion-mnist[0-4]+permute(3)+invert"
    assert "permuted (seed 3)" in t.description and "inverted" in t.description
    sub = tasks.get("fashion-mnist[0-4]")
    perm = np.random.default_rng(3).permutation(784)
    (bx, by), (x, y) = sub.split("val"), t.split("val")
    assert torch.equal(x.reshape(len(x), -1), 1 - bx.reshape(len(bx), -1)[:, perm])
    assert torch.equal(y, by)
    # Two permutations compose: permute(a)+permute(b) == x[:, pa][:, pb].
    two = tasks.get("digits+permute(1)+permute(2)").split("train")[0].reshape(-1, 64)
    bx = tasks.get("digits").split("train")[0].reshape(-1, 64)
    pa, pb = np.random.default_rng(1).permutation(64), np.random.default_rng(2).permutation(64)
    assert torch.equal(two, bx[:, pa][:, pb])


@settings(max_examples=25, deadline=None)
@given(
    classes=st.lists(st.integers(0, 9), min_size=2, max_size=10, unique=True),
    seed=st.integers(0, 2**32),
)
def test_random_subsets_and_relabels_stay_consistent(classes, seed):
    spec = f"digits[{','.join(map(str, classes))}]+relabel({seed})"
    t = tasks.get(spec)
    base = tasks.get("digits")
    assert t.num_classes == len(classes) and sorted(t.classes) == sorted(classes)
    bx, by = base.split("test")
    x, y = t.split("test")
    keep = torch.isin(by, torch.tensor(classes))
    assert torch.equal(x, bx[keep])
    # Every example's label names its original class.
    assert [t.class_names[i] for i in y.tolist()] == [str(c) for c in by[keep].tolist()]


@pytest.mark.parametrize(
    "name, problem",
    [
        ("mnist[", "never closed"),
        ("mnist[]", "empty class list"),
        ("mnist[3]", "at least 2 classes"),
        ("mnist[3,3]", "listed twice"),
        ("mnist[0-4,2]", "listed twice"),
        ("mnist[3,10]", "out of range"),
        ("mnist[0-99999999999999999999]", "class 10 is out of range"),  # was OverflowError building the range
        ("mnist[12-99999999]", "class 12 is out of range"),  # checked before a list of 10^8 ids is made
        ("mnist[4-0]", "runs backwards"),
        ("mnist[a,b]", "'a'"),
        ("mnist[3,,8]", "empty item"),
        ("mnist+rotate(3)", "unknown transform 'rotate(3)'"),
        ("mnist+permute", "needs a non-negative integer seed"),
        ("mnist+permute(x)", "needs a non-negative integer seed"),
        ("mnist+permute(-1)", "needs a non-negative integer seed"),
        ("mnist+invert(2)", "takes no argument"),
        ("mnist+", "empty transform"),
        ("mnist[3,8]x", "unexpected"),
        ("permute(x)", "is a transform"),
        ("mnsit", "did you mean mnist"),
        ("cifar10", "unknown data set 'cifar10'"),
        ("", "empty task name"),
        ("[3,8]", "must start with a data set name"),
    ],
)
def test_malformed_names_name_the_problem_and_the_valid_forms(name, problem):
    with pytest.raises(TaskError) as info:
        tasks.get(name)
    message = str(info.value)
    assert problem in message
    assert "permute(SEED)" in message  # lists the valid forms
    assert not tasks.is_task_name(name)


def test_task_error_is_a_value_error():
    with pytest.raises(ValueError, match="bad task name 'nope': unknown data set 'nope'") as e:
        tasks.get("nope")
    assert isinstance(e.value, TaskError)
    with pytest.raises(TaskError, match="a task name must be a string, got int"):
        tasks.get(3)  # type: ignore[arg-type]


def test_is_task_name():
    for good in ("mnist", "FASHION-MNIST[0-4]+permute(3)+invert", "digits[1,2]+relabel(0)", "mnist1d+invert"):
        assert tasks.is_task_name(good)
    for bad in ("mnist[", "a network that reads mnist", None, 3):
        assert not tasks.is_task_name(bad)


@pytest.mark.parametrize("name", [
    "digits", "digits[3,8]", "digits[0-4]", "digits[8,3]+invert", "digits[0-2,7]+permute(3)+relabel(1)",
    "digits+relabel(2)+invert+permute(0)", "mnist1d[9,0]+invert",
])
def test_str_of_a_task_is_its_name_and_gives_it_back(name):
    t = tasks.get(name)
    assert str(t) == t.name == f"{t}"  # str() was the repr, which no spec reader took
    assert tasks.get(str(t)) is t
    assert tasks.parse(str(t)) is t
    assert tasks.resolve(str(t)) is t
    assert pickle.loads(pickle.dumps(t)) is t
    assert repr(t).startswith(f"Task({name!r}")  # repr unchanged


def test_a_relabelled_task_of_every_class_does_not_copy_the_split_first(isolated, monkeypatch):
    import tracemalloc

    import torch

    make_idx_folder(isolated / "data" / "mnist", n_train=1200, n_test=60)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    base, relabelled = tasks.get("mnist"), tasks.get("mnist+relabel(1)")
    peaks = []
    for t in (base, relabelled):
        t.split("train")
        tracemalloc.start()
        x, y = t.split("train")
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # the uint8 split (~860 KB) was copied by an all-rows index before the float32 conversion (~3.4 MB)
    assert peaks[1] < peaks[0] * 1.1, peaks
    xb, yb = base.split("train")
    assert torch.equal(x, xb)
    assert torch.equal(y, torch.from_numpy(tasks.seeded_permutation(1, 10))[yb])


def test_task_split_of_some_rows_equals_those_rows_of_the_split():
    task = tasks.resolve("digits[9,0,4]+permute(1)+invert")
    x, y = task.split("val")
    take = torch.tensor([5, 0, 5, len(y) - 1]).numpy()
    xs, ys = task._split("val", take)
    assert torch.equal(xs, x[take]) and torch.equal(ys, y[take])
    assert torch.equal(torch.from_numpy(task._labels("val")), y)
    xe, ye = task._split("val", take[:0])  # no rows: empty tensors of the split's shape
    assert xe.shape == (0, *x.shape[1:]) and ye.shape == (0,)


def test_description_of_a_relabelled_subset_names_the_final_labels():
    # relabel(4) of two classes is the swap (numpy.random.default_rng(4).permutation(2) == [1, 0]), by hand:
    assert np.random.default_rng(4).permutation(2).tolist() == [1, 0]
    base_x, base_y = tasks.get("digits").split("train")
    t = tasks.get("digits[7,3]+relabel(4)")
    x, y = t.split("train")
    # label 0 is digit 3 and label 1 digit 7: the rows of each base class, in order
    for label, digit in ((0, 3), (1, 7)):
        assert np.array_equal(x[y == label].numpy(), base_x[base_y == digit].numpy())
    # so "Classes 3, 7 as labels 0..1" is the mapping after the relabel, not one the relabel then permutes again
    # (it read "Classes 3, 7 as labels 0..1. Transforms: labels permuted (seed 4).": 3 -> 0 and then swapped?)
    assert "Classes 3, 7 as labels 0..1 (after the label permutation). Transforms: labels permuted (seed 4)." \
        in t.description
    assert "Classes 7, 3 as labels 0..1." in tasks.get("digits[7,3]").description
    assert "after the label permutation" not in tasks.get("digits[7,3]+permute(4)").description
    full = tasks.get("digits+relabel(2)")
    names = ", ".join(full.class_names)
    assert f"Classes {names} as labels 0..9 (after the label permutation)." in full.description
