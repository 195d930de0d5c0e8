"""load_idx_folder takes labels 0..9 and refuses a label of 10 (the first id past the ten classes), in the training
or the t10k labels, naming the file and the largest label."""

from __future__ import annotations

import pytest

from tasks_helpers import IDX_FILES, make_idx_folder, write_idx

from metanet.errors import TaskError
from metanet.tasks.idx import find_idx_files, load_idx_folder


@pytest.mark.parametrize("role", ["train_labels", "test_labels"])
def test_a_label_of_ten_is_refused_and_nine_is_not(tmp_path, role):
    _, y_train, _, y_test = make_idx_folder(tmp_path)
    labels = (y_train if role == "train_labels" else y_test).copy()
    path = tmp_path / f"{IDX_FILES[role]}.gz"
    labels[-1] = 9
    write_idx(path, labels)
    assert load_idx_folder(find_idx_files(tmp_path))[1 if role == "train_labels" else 3].max() == 9
    labels[-1] = 10
    write_idx(path, labels)
    with pytest.raises(TaskError, match=rf"labels in {path} go up to 10, expected 0\.\.9"):
        load_idx_folder(find_idx_files(tmp_path))
