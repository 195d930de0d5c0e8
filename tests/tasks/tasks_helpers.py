"""Tasks test helpers: tiny fake IDX data sets (random images, mnist or fashion-mnist label fingerprints)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from metanet.tasks.idx import IDX_FILES

MNIST_HEAD = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FASHION_HEAD = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


def write_idx(path: Path, arr: np.ndarray, magic: int | None = None) -> None:
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 + arr.ndim if magic is None else magic
    data = struct.pack(">I", magic) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def make_idx_folder(folder: Path, head: list[int] | None = None, gz: bool = True, n_train=240, n_test=60, seed=0):
    """Synthetic IDX data set: random 28x28 images, balanced labels (first ten set to ``head`` if given)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    y_train = np.tile(np.arange(10), n_train // 10)
    if head is not None:
        y_train[:10] = head
    y_test = np.tile(np.arange(10), n_test // 10)
    x_train = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    ext = ".gz" if gz else ""
    for role, arr in (("train_images", x_train), ("train_labels", y_train), ("test_images", x_test), ("test_labels", y_test)):
        write_idx(folder / (IDX_FILES[role] + ext), arr)
    return x_train, y_train, x_test, y_test
