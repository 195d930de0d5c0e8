"""Reading MNIST-style IDX files (``*-idx3-ubyte[.gz]``, ``*-idx1-ubyte[.gz]``) and finding them on disk."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from math import prod
from pathlib import Path

import numpy as np

from metanet.errors import TaskError

__all__ = ["IDX_FILES", "read_idx", "find_idx_files", "load_idx_folder"]

#: The four files of an MNIST-style data set, by role (stem; ``.gz`` is optional on disk).
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
#: The most images (and labels) an MNIST-style file may hold: well above the official 60,000 train / 10,000 t10k
#: (larger MNIST-style sets such as QMNIST's 60,000-image test file still load), far below what exhausts memory.
MAX_ITEMS = 1_000_000


def read_idx(path: str | os.PathLike, ndim: int, shape: tuple[int, ...] | None = None,
             max_count: int | None = None) -> np.ndarray:
    """Read an unsigned-byte IDX file, gzipped or not, as a read-only uint8 array.

    Compression is told from the content, not the name: browsers often save the unpacked bytes of
    ``train-images-idx3-ubyte.gz`` under that name. Validates the magic number (``0x0000 08 ndim``) and that
    the payload matches the header's dimensions; with ``shape`` (each item's, e.g. ``(28, 28)``) and ``max_count``
    (the most items), also that the header's dimensions are those, before reading any data.
    """
    path = Path(path)
    header = 4 + 4 * ndim
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"  # the gzip magic; an IDX file starts with two zero bytes
            raw.seek(0)
            # Streamed, never decompressed whole: the header's dims bound what is read, so a gzip bomb
            # in a data folder cannot fill memory.
            stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
            data = stream.read(header)
            dims = _check_header(path, data, ndim)
            _check_dims(path, dims, shape, max_count)
            size, on_disk = prod(dims), os.fstat(raw.fileno()).st_size
            if size > (_DEFLATE_MAX_RATIO if gzipped else 1) * on_disk:  # refused before reading a byte of it
                what = "gzip-compressed bytes can" if gzipped else "bytes can"
                raise TaskError(
                    f"{path} is truncated or corrupt: header says {dims} = {size} bytes of data, more than "
                    f"its {on_disk} {what} hold"
                )
            chunks = [data]
            left = size + 1  # one byte more tells trailing garbage from a complete file
            while left > 0 and (chunk := stream.read(min(left, 1 << 20))):  # memory grows with what is there
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise TaskError(f"cannot read IDX file {path}: {e}; expected a (gzipped) IDX file") from e
    if len(data) - header != size:
        got = f"{len(data) - header}" if len(data) - header < size else "more"
        raise TaskError(
            f"{path} is truncated or corrupt: header says {dims} = {size} bytes of data, file has {got}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


#: Deflate's largest possible compression ratio (a 258-byte match in two bits): a gzip file of n bytes
#: cannot unpack to more than this many times n.
_DEFLATE_MAX_RATIO = 1032


def _check_header(path: Path, data: bytes, ndim: int) -> tuple[int, ...]:
    """The dimensions in the IDX header ``data`` (its first ``4 + 4 * ndim`` bytes), after checking it."""
    expected_magic = 0x0800 + ndim
    if data[:2] not in (b"", b"\x00", b"\x00\x00"):  # e.g. an HTML error page saved by a failed download
        raise TaskError(
            f"cannot read IDX file {path}: it is neither gzip-compressed nor an IDX file (it starts with "
            f"{data[:16]!r}); expected a (gzipped) IDX file"
        )
    if len(data) < 4 + 4 * ndim:
        raise TaskError(f"{path} is too short ({len(data)} bytes) to be an IDX file with {ndim} dimensions")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise TaskError(
            f"{path} has magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned-byte IDX with {ndim} dimensions)"
        )
    return struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])


def _check_dims(path: Path, dims: tuple[int, ...], shape: tuple[int, ...] | None, max_count: int | None) -> None:
    """Refuse a header whose dims are not ``(n <= max_count, *shape)``: a file honestly claiming 10**9 images (a
    sparse file, a huge download) was read until memory ran out."""
    want = "x".join(map(str, shape)) if shape else ""
    if shape is not None and tuple(dims[1:]) != tuple(shape):
        raise TaskError(f"{path}: its header says {dims} ({dims[0]:,} items of {'x'.join(map(str, dims[1:]))}), "
                        f"expected {want} items")
    if max_count is not None and dims[0] > max_count:
        raise TaskError(f"{path}: its header says {dims} ({dims[0]:,} items), expected at most {max_count:,}"
                        + (f" of {want}" if want else "") + " (an MNIST-style file)")


def find_idx_files(folder: str | os.PathLike) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (``.gz`` preferred), ``None`` if it holds none of them.

    A folder holding some but not all of them is an error naming the missing files.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        return None
    found: dict[str, Path] = {}
    not_files: list[str] = []  # names `ls` shows that are no readable file: else "not X" though X is there
    for role, stem in IDX_FILES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[role] = candidate
                break
        else:
            for candidate in (folder / f"{stem}.gz", folder / stem):
                if candidate.is_dir():
                    not_files.append(f"{candidate} is a folder, not a file")
                elif candidate.is_symlink():
                    not_files.append(f"{candidate} is a broken link (to {os.readlink(candidate)})")
    if not found:
        return None
    if len(found) < len(IDX_FILES):
        missing = [f"{IDX_FILES[r]}.gz" for r in IDX_FILES if r not in found]
        why = f" ({'; '.join(not_files)})" if not_files else ""
        raise TaskError(f"{folder} holds some IDX files but not {', '.join(missing)}{why}; it needs all four")
    return found


def load_idx_folder(files: dict[str, Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` as uint8 arrays ``(n, 28, 28)``/``(n,)`` from :func:`find_idx_files`."""
    x_train = read_idx(files["train_images"], 3, (28, 28), MAX_ITEMS)
    y_train = read_idx(files["train_labels"], 1, (), MAX_ITEMS)
    x_test = read_idx(files["test_images"], 3, (28, 28), MAX_ITEMS)
    y_test = read_idx(files["test_labels"], 1, (), MAX_ITEMS)
    for xs, ys, which in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        role = "test" if which == "t10k" else "train"
        images, labels = files[f"{role}_images"], files[f"{role}_labels"]
        if xs.shape[0] != ys.shape[0]:
            raise TaskError(
                f"{which} images and labels disagree: {xs.shape[0]} images vs {ys.shape[0]} labels (in {images.name} "
                f"and {labels.name}, folder {images.parent}); each image needs one label"
            )
        if xs.shape[0] == 0:
            raise TaskError(f"{images} holds no images; expected a non-empty {which} set")
        if xs.shape[1:] != (28, 28):
            raise TaskError(f"{which} images in {images} are {xs.shape[1:]}, expected 28x28")
        if ys.max() > 9:
            raise TaskError(f"{which} labels in {labels} go up to {ys.max()}, expected 0..9")
    return x_train, y_train, x_test, y_test
