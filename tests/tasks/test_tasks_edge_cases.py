"""Awkward-but-legitimate inputs to tasks: downloads into bad folders, IDX files misnamed by browsers, whitespace
inside task names, exclusion phrases, from_examples with meta / sparse / float8 tensors. No network is used."""

from __future__ import annotations

import gzip
import http.client
import struct

import numpy as np
import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import fetch
from metanet.tasks.idx import IDX_FILES, read_idx


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return struct.pack(">I", 0x0800 + arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


@pytest.fixture
def no_network(monkeypatch):
    def urlopen(*args, **kwargs):
        raise AssertionError("the network must not be used")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)


# ----------------------------------------------------------------- download (offline)
def test_download_takes_aliases_and_a_bad_root_is_a_task_error(tmp_path, no_network):
    not_a_folder = tmp_path / "a file"
    not_a_folder.write_text("x")
    with pytest.raises(TaskError, match="cannot create the download folder .*fashion-mnist.*writable folder"):
        tasks.download("fmnist", not_a_folder)  # an alias get() takes, as download() now does too
    with pytest.raises(TaskError, match="cannot create the download folder"):
        tasks.download("mnist", not_a_folder / "sub")
    with pytest.raises(TaskError, match="needs no download"):
        tasks.download(" MNIST-1D ", tmp_path)


class _Cut:
    """A response whose connection breaks at the first read."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n=-1):
        raise http.client.IncompleteRead(b"partial", 100)


def test_a_cut_connection_is_a_task_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.urllib.request, "urlopen", lambda url, timeout=None: _Cut())
    with pytest.raises(TaskError, match="could not download .*train-images"):
        tasks.download("mnist", tmp_path)
    assert not (tmp_path / "mnist").exists()  # the folder this call made is removed too


def test_a_file_downloaded_before_the_failure_is_kept(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"kept")
    monkeypatch.setattr(fetch.urllib.request, "urlopen", lambda url, timeout=None: _Cut())
    with pytest.raises(TaskError):
        tasks.download("mnist", tmp_path)
    assert [p.name for p in folder.iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_a_bad_file_already_present_is_named_with_the_fix(tmp_path, no_network):
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = {
        "train_images": np.zeros((12, 28, 28)), "train_labels": np.full(12, 12),  # label 12: not MNIST
        "test_images": np.zeros((2, 28, 28)), "test_labels": np.zeros(2),
    }
    for role, arr in arrays.items():
        (folder / f"{IDX_FILES[role]}.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    with pytest.raises(TaskError, match=r"go up to 12.*delete the bad file from .*download\('mnist'\) again"):
        tasks.download("mnist", tmp_path)


# ----------------------------------------------------------------- IDX files
def test_idx_compression_is_told_from_the_content(tmp_path):
    labels = np.arange(10)
    unpacked_but_named_gz = tmp_path / "train-labels-idx1-ubyte.gz"  # what browsers often save
    unpacked_but_named_gz.write_bytes(idx_bytes(labels))
    assert read_idx(unpacked_but_named_gz, 1).tolist() == list(range(10))
    packed_without_gz = tmp_path / "t10k-labels-idx1-ubyte"
    packed_without_gz.write_bytes(gzip.compress(idx_bytes(labels)))
    assert read_idx(packed_without_gz, 1).tolist() == list(range(10))
    html = tmp_path / "train-images-idx3-ubyte.gz"
    html.write_bytes(b"<!DOCTYPE html><html>403 Forbidden</html>")
    with pytest.raises(TaskError, match="neither gzip-compressed nor an IDX file .*DOCTYPE"):
        read_idx(html, 3)


# ----------------------------------------------------------------- names and text
@pytest.mark.parametrize("name", ["mnist[0 3,8]", "digits[1 2]", "digits+permute(1 2)", "mnist[3,8]+relabel(4 2)"])
def test_digits_split_by_whitespace_in_a_task_name_are_an_error(name):
    # Whitespace is ignored, so these used to read as mnist[3,8], digits[12] (out of range), permute(12), relabel(42).
    with pytest.raises(TaskError, match="split by whitespace"):
        tasks.canonical_name(name)
    assert not tasks.is_task_name(name)


def test_whitespace_elsewhere_is_still_ignored_and_text_still_parses():
    assert tasks.canonical_name(" MNIST [ 3 , 8 ] + permute( 3 ) ") == "mnist[3,8]+permute(3)"
    assert tasks.text_to_spec("digits 3 8") == "mnist[3,8]"


@pytest.mark.parametrize(
    "text, spec",
    [
        ("all digits but 7", "mnist[0-6,8,9]"),
        ("mnist, leaving out 7", "mnist[0-6,8,9]"),
        ("mnist minus 0 and 1", "mnist[2-9]"),
        ("fashion mnist, omitting shirts", "fashion-mnist[0-5,7-9]"),
        ("everything but bags", "fashion-mnist[0-7,9]"),
        ("mnist 3 and 8 but inverted", "mnist[3,8]+invert"),  # a lone "but" excludes nothing
        ("digits 3 and 8, but also 5", "mnist[3,8,5]"),
    ],
)
def test_more_exclusion_phrases(text, spec):
    assert tasks.text_to_spec(text) == spec


# ----------------------------------------------------------------- from_examples
def test_meta_tensors_are_a_task_error_naming_the_device():
    x, y = torch.rand(12, 3), torch.arange(12) % 2
    with pytest.raises(TaskError, match="x is on the 'meta' device"):
        tasks.from_examples(x.to("meta"), y)
    with pytest.raises(TaskError, match="y is on the 'meta' device"):
        tasks.from_examples(x, y.to("meta"))


def test_sparse_and_float8_inputs_are_taken_like_dense_float32():
    x, y = (torch.rand(12, 3) > 0.5).float() * 0.5, torch.arange(12) % 2
    dense = tasks.from_examples(x, y)
    sparse = tasks.from_examples(x.to_sparse(), y)
    assert sparse.name == dense.name
    assert torch.equal(sparse.split("train")[0], dense.split("train")[0])
    f8 = tasks.from_examples(x.to(torch.float8_e4m3fn), y)  # 0, 0.5 are exact in float8
    assert f8.split("val")[0].dtype == torch.float32
    assert torch.equal(f8.split("val")[0], dense.split("val")[0])


def test_class_names_as_one_string_is_an_error():
    x, y = torch.rand(9, 2), torch.arange(9) % 3
    with pytest.raises(TaskError, match="class_names must be a list of names"):
        tasks.from_examples(x, y, class_names="cat")  # used to give classes 'c', 'a', 't'
    assert tasks.from_examples(x, y, class_names=("cat", "dog", "cow")).class_names == ["cat", "dog", "cow"]
    with pytest.raises(TaskError, match="class_names must be distinct; 'cat' names more than one class"):
        tasks.from_examples(x, y, class_names=("cat", "dog", "cat"))  # was accepted: two classes called 'cat'


@pytest.mark.parametrize("kwargs", [{"val_fraction": "0.2"}, {"test_fraction": torch.tensor(0.2)}, {"val_fraction": None}])
def test_fractions_that_are_no_numbers_are_task_errors(kwargs):
    with pytest.raises(TaskError, match="_fraction must be a number in"):
        tasks.from_examples(torch.rand(9, 2), torch.arange(9) % 3, **kwargs)
    tasks.from_examples(torch.rand(9, 2), torch.arange(9) % 3, val_fraction=np.float32(0.25), test_fraction=0)


# --- download: a folder in the way, a refused connection --------------------------------------------------------------


@pytest.fixture
def refused(monkeypatch):
    def urlopen(url, timeout=None):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)


def test_a_folder_named_like_a_file_is_told_before_any_download(tmp_path, no_network):
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").mkdir(parents=True)
    with pytest.raises(TaskError, match=r"t10k-labels-idx1-ubyte.gz is a folder, not the file; move it away") as e:
        tasks.download("mnist", tmp_path)
    assert "could not download" not in str(e.value)  # it blamed the network: 'Is a directory'


def test_a_failed_download_leaves_no_empty_folder(tmp_path, refused):
    root = tmp_path / "new" / "data"
    with pytest.raises(TaskError, match="could not download .*Network is unreachable"):
        tasks.download("mnist", root)
    assert list(tmp_path.iterdir()) == []  # nor the root it created for it
    # a folder that was there before is kept, empty or not
    (tmp_path / "mine" / "fashion-mnist").mkdir(parents=True)
    with pytest.raises(TaskError):
        tasks.download("fashion-mnist", tmp_path / "mine")
    assert (tmp_path / "mine" / "fashion-mnist").is_dir()


def test_a_failed_download_says_how_to_place_the_files_by_hand(tmp_path, refused, monkeypatch):
    monkeypatch.delenv("METANET_DATA", raising=False)
    with pytest.raises(TaskError) as e:
        tasks.download("fashion-mnist", tmp_path)
    msg = str(e.value)
    assert "without network, put the four IDX files" in msg and str(tmp_path / "fashion-mnist") in msg
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
              "t10k-labels-idx1-ubyte.gz"):
        assert f in msg
    assert f"set METANET_DATA={tmp_path}" in msg  # a root the loaders do not search: how they find it
    monkeypatch.setenv("METANET_DATA", str(tmp_path))
    with pytest.raises(TaskError) as e:
        tasks.download("fashion-mnist")  # the default root: searched already
    assert "by hand" in str(e.value) and "set METANET_DATA" not in str(e.value)
