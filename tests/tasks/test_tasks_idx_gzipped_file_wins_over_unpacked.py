"""A folder holding both ``<stem>.gz`` and the unpacked ``<stem>`` of an IDX file is read from the ``.gz`` (the
documented preference), for every one of the four files."""

from __future__ import annotations

import numpy as np

from tasks_helpers import make_idx_folder

from metanet.tasks.idx import IDX_FILES, find_idx_files, load_idx_folder


def test_the_gz_file_is_preferred_over_the_unpacked_one(tmp_path):
    packed = make_idx_folder(tmp_path, gz=True, seed=0)
    unpacked = make_idx_folder(tmp_path, gz=False, n_train=120, n_test=30, seed=1)  # other images, other counts
    files = find_idx_files(tmp_path)
    assert files == {role: tmp_path / f"{stem}.gz" for role, stem in IDX_FILES.items()}
    got = load_idx_folder(files)
    for a, want, other in zip(got, packed, unpacked):
        np.testing.assert_array_equal(a, want)
        assert a.shape != other.shape
    (tmp_path / f"{IDX_FILES['test_labels']}.gz").unlink()  # one .gz gone: its unpacked file is used, the rest stay .gz
    files = find_idx_files(tmp_path)
    assert files["test_labels"] == tmp_path / IDX_FILES["test_labels"]
    assert files["train_images"] == tmp_path / f"{IDX_FILES['train_images']}.gz"
