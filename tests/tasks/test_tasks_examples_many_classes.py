"""The stratified split of labelled examples with many classes: the labels are scanned a fixed number of times,
not once per class (``from_examples`` of 10^5 examples of 10^4 classes took seconds), and the split is the one the
per-class definition gives (the same rows in each split, the same random draws)."""

from __future__ import annotations

import numpy as np

from metanet.tasks import from_examples
from metanet.tasks.examples import MIN_PER_CLASS_FOR_SPLIT, _split_indices


class _CountingLabels(np.ndarray):
    """Labels that count the element-wise operations (ufunc calls) run over all of them."""

    full_scans = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(a, _CountingLabels) and a.size == self.size for a in inputs):
            _CountingLabels.full_scans += 1
        plain = [a.view(np.ndarray) if isinstance(a, _CountingLabels) else a for a in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def _per_class_split(y: np.ndarray, val_fraction: float, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """The split as documented: per class present (in order), its rows shuffled with one generator, test first."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n = len(idx)
        n_val = n_test = 0
        if n >= MIN_PER_CLASS_FOR_SPLIT:
            n_val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
            n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
            while n_val + n_test > n - 1:
                if n_test >= n_val:
                    n_test -= 1
                else:
                    n_val -= 1
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    return {s: np.sort(np.concatenate(p)) for s, p in parts.items()}


def test_the_labels_are_scanned_a_fixed_number_of_times_not_once_per_class():
    classes = 2000
    y = (np.arange(6 * classes, dtype=np.int64) % classes).view(_CountingLabels)
    _CountingLabels.full_scans = 0
    rows = _split_indices(y, 0.1, 0.1, 0)
    assert _CountingLabels.full_scans < 10, _CountingLabels.full_scans  # was one comparison per class: 2000
    assert sum(len(r) for r in rows.values()) == len(y)


def test_the_split_is_the_per_class_one_for_many_sparse_and_uneven_classes():
    rng = np.random.default_rng(3)
    for seed, (n, k, spread) in enumerate([(5000, 700, 1), (3000, 50, 10**9), (400, 400, 7), (1, 1, 1)]):
        y = rng.integers(0, k, n).astype(np.int64) * spread  # ids need not be 0..k-1 (examples_split)
        for fractions in [(0.1, 0.1), (0.0, 0.25), (0.3, 0.0)]:
            got, want = _split_indices(y, *fractions, seed), _per_class_split(y, *fractions, seed)
            for s in ("train", "val", "test"):
                assert np.array_equal(got[s], want[s]) and got[s].dtype == want[s].dtype, (n, k, fractions, s)


def test_from_examples_with_many_classes_keeps_every_class_in_train():
    k = 3000
    y = np.repeat(np.arange(k), 4)
    x = np.random.default_rng(0).random((len(y), 3), dtype=np.float32)
    task = from_examples(x, y)
    ys = {s: task.split(s)[1].numpy() for s in ("train", "val", "test")}
    assert task.num_classes == k
    assert np.array_equal(np.unique(ys["train"]), np.arange(k))
    assert np.array_equal(np.bincount(ys["test"], minlength=k), np.ones(k, dtype=np.int64))
    assert sum(len(v) for v in ys.values()) == len(y)
