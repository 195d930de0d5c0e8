"""The IDX files of mnist / fashion-mnist are checked against the dims such files have (28x28 images, at most
1,000,000 of them: far more than the official 60,000 / 10,000, far less than exhausts memory) from their header, before any data is read: a header honestly claiming
huge sizes (a sparse file, a huge download of something else) was read until memory ran out."""

from __future__ import annotations

import math
import struct
import tracemalloc

import pytest

from tasks_helpers import make_idx_folder

from metanet.errors import TaskError
from metanet.tasks.idx import MAX_ITEMS, find_idx_files, load_idx_folder, read_idx


def _sparse_idx(path, *dims):
    """An IDX file whose header is honest: the file really is as large as it says (sparse: no disk used)."""
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 + len(dims)) + struct.pack(">" + "I" * len(dims), *dims))
        f.truncate(4 + 4 * len(dims) + math.prod(dims))


def _refused(files, match):
    tracemalloc.start()
    try:
        with pytest.raises(TaskError, match=match) as e:
            load_idx_folder(files)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"load_idx_folder held {peak} bytes before refusing the file"
    return str(e.value)


@pytest.mark.parametrize("role, dims, match", [
    ("train_images", (1_000_001, 28, 28), r"\(1,000,001 items\), expected at most 1,000,000 of 28x28"),
    ("train_images", (100, 1000, 1000), r"\(100 items of 1000x1000\), expected 28x28 items"),
    ("test_labels", (10**7,), r"\(10,000,000 items\), expected at most 1,000,000 \(an MNIST-style file\)"),
])
def test_a_header_with_other_dims_is_refused_before_reading_it(tmp_path, role, dims, match):
    make_idx_folder(tmp_path, gz=False)
    files = find_idx_files(tmp_path)
    _sparse_idx(files[role], *dims)
    assert str(files[role]) in _refused(files, match)


def test_files_of_the_expected_dims_still_read(tmp_path):
    x_train, y_train, x_test, y_test = make_idx_folder(tmp_path)
    got = load_idx_folder(find_idx_files(tmp_path))
    for a, b in zip(got, (x_train, y_train, x_test, y_test)):
        assert a.tolist() == b.tolist()
    assert read_idx(find_idx_files(tmp_path)["train_labels"], 1).tolist() == y_train.tolist()  # no dims: any


def test_more_images_than_the_official_counts_still_read(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    _sparse_idx(path, 60000, 28, 28)  # QMNIST's test file: 60,000 images where MNIST's t10k has 10,000
    assert read_idx(path, 3, (28, 28), MAX_ITEMS).shape == (60000, 28, 28)
