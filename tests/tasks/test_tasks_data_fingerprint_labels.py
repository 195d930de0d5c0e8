"""`sources.data_fingerprint` hashes every split's images AND labels (its docstring: "x then y"): two MNIST folders
with the same images but other labels are other data (a zoo's data record must tell them apart), while the same
files at another path have the same sha256."""

from __future__ import annotations

import shutil

import numpy as np

from tasks_helpers import make_idx_folder, write_idx

from metanet import tasks
from metanet.tasks import sources
from metanet.tasks.idx import IDX_FILES


def _fingerprint(monkeypatch, root) -> dict:
    tasks.clear_cache()
    monkeypatch.setenv("METANET_DATA", str(root))
    return sources.data_fingerprint("mnist")


def test_data_differing_only_in_labels_has_another_fingerprint(isolated, monkeypatch):
    make_idx_folder(isolated / "a" / "mnist")
    shutil.copytree(isolated / "a", isolated / "same")
    make_idx_folder(isolated / "b" / "mnist")  # the same images (same seed) ...
    # ... with the test labels shifted by one class
    write_idx(isolated / "b" / "mnist" / (IDX_FILES["test_labels"] + ".gz"), (np.tile(np.arange(10), 6) + 1) % 10)
    fa = _fingerprint(monkeypatch, isolated / "a")
    fsame = _fingerprint(monkeypatch, isolated / "same")
    fb = _fingerprint(monkeypatch, isolated / "b")
    assert fa["source"] != fsame["source"] and fa["sha256"] == fsame["sha256"]  # the data, not its path
    assert fb["sizes"] == fa["sizes"] and fb["sha256"] != fa["sha256"]
