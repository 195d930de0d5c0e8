"""read_idx's ``max_count`` is the most items a file may hold: a file of exactly that many reads, one more is refused
(named with its count) before any data is read."""

from __future__ import annotations

import numpy as np
import pytest

from tasks_helpers import write_idx

from metanet.errors import TaskError
from metanet.tasks.idx import read_idx


def test_a_file_of_exactly_max_count_items_reads_and_one_more_is_refused(tmp_path):
    labels = tmp_path / "train-labels-idx1-ubyte"
    write_idx(labels, np.arange(5))
    assert read_idx(labels, 1, (), max_count=5).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(TaskError, match=r"\(5 items\), expected at most 4 \(an MNIST-style file\)"):
        read_idx(labels, 1, (), max_count=4)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(images, np.zeros((3, 28, 28)))
    assert read_idx(images, 3, (28, 28), max_count=3).shape == (3, 28, 28)
    with pytest.raises(TaskError, match=r"\(3 items\), expected at most 2 of 28x28"):
        read_idx(images, 3, (28, 28), max_count=2)
