"""Data folders as users have them: a METANET_DATA typo while fashion-mnist (or full MNIST, from ~/.cache/metanet) is
found elsewhere, a folder or a broken link where an IDX file should be, a relative METANET_DATA."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tasks_helpers import IDX_FILES, MNIST_HEAD, make_idx_folder

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import sources


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_fashion_found_elsewhere_while_metanet_data_is_not_a_folder_warns(isolated, monkeypatch, kind):
    system = isolated / "system"
    make_idx_folder(system)
    monkeypatch.setattr(sources, "SYSTEM_FASHION_DIR", system)
    typo = isolated / "typo"
    if kind == "file":
        typo.write_text("not a folder")
    monkeypatch.setenv("METANET_DATA", str(typo))
    with pytest.warns(UserWarning, match="is not a folder") as record:
        t = tasks.get("fashion-mnist")  # was: the Debian folder's data, without a word about the typo
    assert t.source == str(system)
    message = str(record[0].message)
    assert str(typo) in message and str(system) in message


def test_fashion_from_the_system_folder_next_to_a_metanet_data_of_mnist_is_silent(isolated, monkeypatch):
    system = isolated / "system"
    make_idx_folder(system)
    monkeypatch.setattr(sources, "SYSTEM_FASHION_DIR", system)
    make_idx_folder(isolated / "data", head=MNIST_HEAD)  # a documented setup: full MNIST in METANET_DATA itself
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tasks.get("fashion-mnist").source == str(system)


def test_a_folder_where_an_idx_file_should_be_is_named_as_such(isolated, monkeypatch):
    folder = isolated / "data" / "mnist"
    make_idx_folder(folder)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    bad = folder / (IDX_FILES["test_labels"] + ".gz")
    bad.unlink()
    bad.mkdir()  # e.g. an archive tool unpacked it into a folder of that name
    with pytest.raises(TaskError) as info:
        tasks.get("mnist")  # was: "holds some IDX files but not t10k-labels-idx1-ubyte.gz", though `ls` shows it
    message = str(info.value)
    assert f"{bad} is a folder, not a file" in message and "it needs all four" in message


def test_a_broken_link_where_an_idx_file_should_be_is_named_as_such(isolated, monkeypatch):
    folder = isolated / "data" / "mnist"
    make_idx_folder(folder)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    bad = folder / (IDX_FILES["train_images"] + ".gz")
    bad.unlink()
    bad.symlink_to(isolated / "unmounted" / "train-images-idx3-ubyte.gz")
    with pytest.raises(TaskError) as info:
        tasks.get("mnist")
    assert f"{bad} is a broken link (to {isolated / 'unmounted' / 'train-images-idx3-ubyte.gz'})" in str(info.value)


def test_a_relative_metanet_data_is_recorded_as_an_absolute_source(isolated, monkeypatch):
    x_test = make_idx_folder(isolated / "data" / "mnist")[2]
    monkeypatch.chdir(isolated)
    monkeypatch.setenv("METANET_DATA", "data/")
    t = tasks.get("mnist")
    # was "data/mnist": in a zoo's data record and its hints, a path that means nothing from another folder
    assert t.source == str(isolated / "data" / "mnist")
    assert str(isolated / "data" / "mnist") in t.description
    assert sources.data_fingerprint("mnist")["source"] == str(isolated / "data" / "mnist")
    x, _ = t.split("test")
    assert np.array_equal(np.rint(x.numpy()[:, 0] * 255).astype(np.uint8), x_test)


def test_mnist_found_in_the_cache_while_metanet_data_is_not_a_folder_warns(isolated, monkeypatch):
    """As fashion-mnist does: full MNIST from ~/.cache/metanet was used without a word about the typo."""
    cache = isolated / "home-cache" / "mnist"
    make_idx_folder(cache, head=MNIST_HEAD)
    monkeypatch.setenv("METANET_DATA", str(isolated / "typo"))
    with pytest.warns(UserWarning, match=re.escape(f"METANET_DATA={isolated / 'typo'} is not a folder: using the "
                                                   f"mnist IDX files in {cache} instead")) as record:
        t = tasks.get("mnist")
    assert t.source == str(cache) and record[0].filename == __file__
