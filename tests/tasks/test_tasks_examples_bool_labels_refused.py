"""from_examples refuses bool labels (numpy's bool is no integer dtype, but min / max read it as 0 / 1): True / False
labels are not class ids, and y.long() (or renumbering) is named as the way out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError


@pytest.mark.parametrize("y", [torch.arange(8) % 2 == 1, np.arange(8) % 2 == 1], ids=["tensor", "numpy"])
def test_bool_labels_are_refused_naming_their_dtype(y):
    x = torch.linspace(0, 1, 8)[:, None]
    with pytest.raises(TaskError, match=r"y has dtype bool; labels must be integer class ids 0..k-1 \(e.g. y.long\(\)"):
        tasks.from_examples(x, y)
    t = tasks.from_examples(x, torch.as_tensor(y).long())  # the way out it names
    assert t.num_classes == 2
