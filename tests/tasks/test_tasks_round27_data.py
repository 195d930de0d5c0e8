"""Round 27: split hygiene of base data sets (no example in two splits, stratified, documented sizes) and derived
tasks' transforms applied identically to every split."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from tasks_helpers import make_idx_folder

from metanet import tasks
from metanet.tasks import registry, sources


def _hashes(x: torch.Tensor) -> set[str]:
    return {hashlib.sha1(r.numpy().tobytes()).hexdigest() for r in x}


def _check_hygiene(t, sizes):
    assert t.sizes() == sizes
    seen = {}
    for s in tasks.SPLITS:
        x, y = t.split(s)
        assert x.dtype == torch.float32 and y.dtype == torch.int64 and tuple(x.shape[1:]) == t.input_shape
        assert 0 <= float(x.min()) and float(x.max()) <= 1
        seen[s] = _hashes(x)
        assert len(seen[s]) == len(x)  # no duplicate within a split either
    assert not seen["train"] & seen["val"] and not seen["train"] & seen["test"] and not seen["val"] & seen["test"]


@pytest.fixture
def fake_mnist(monkeypatch, tmp_path):
    saved_tasks, saved_base = dict(registry._TASKS), dict(sources._CACHE)
    tasks.clear_cache()
    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path / "home-cache")
    make_idx_folder(tmp_path / "data dir é" / "mnist", n_train=360, n_test=60)
    monkeypatch.setenv("METANET_DATA", str(tmp_path / "data dir é"))
    yield tmp_path
    tasks.clear_cache()
    registry._TASKS.update(saved_tasks)
    sources._CACHE.update(saved_base)


def test_idx_folder_splits_are_disjoint_stratified_and_transforms_match(fake_mnist):
    t = tasks.get("mnist")
    _check_hygiene(t, {"train": 330, "val": 30, "test": 60})  # val = 360 // 12
    assert torch.bincount(t.split("val")[1], minlength=10).tolist() == [3] * 10
    d = tasks.get("mnist[8,3]+permute(2)+invert+relabel(1)")
    perm = torch.from_numpy(tasks.seeded_permutation(2, 784))
    lab = tasks.seeded_permutation(1, 2)
    for s in tasks.SPLITS:
        xb, yb = t.split(s)
        x, y = d.split(s)
        keep = (yb == 8) | (yb == 3)
        want = 1 - xb[keep].reshape(-1, 784)[:, perm].reshape(-1, 1, 28, 28)
        assert torch.equal(x, want)  # the same permutation and inversion in every split
        assert torch.equal(y, torch.from_numpy(lab[np.where(yb[keep].numpy() == 8, 0, 1)]))
        assert sorted(y.unique().tolist()) == [0, 1]
    assert d.classes == tuple(int(c) for c in np.array([8, 3])[np.argsort(lab)])


def test_digits_splits_are_disjoint_and_as_documented():
    _check_hygiene(tasks.get("digits"), {"train": 1077, "val": 360, "test": 360})
    _check_hygiene(tasks.get("digits[9,0,4]+relabel(3)"), tasks.get("digits[9,0,4]").sizes())
