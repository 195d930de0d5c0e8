"""resolve.as_examples (verify's data=, refine's examples, the loop's tasks) reads uint8 inputs as every task reader
does: 0..255 divided by 255 exactly (255 is 1.0, not 255/256), bool as 0 / 1, and a task object whose splits are
uint8 arrays gives the same values through resolve."""

from __future__ import annotations

import numpy as np
import torch

from metanet import tasks
from metanet.tasks.resolve import as_examples, as_inputs


def test_uint8_inputs_are_divided_by_255():
    raw = torch.tensor([[0, 51, 255], [255, 102, 0]], dtype=torch.uint8)
    x, y = as_examples(raw, np.array([1, 0], dtype=np.int32))
    assert x.dtype == torch.float32 and torch.equal(x, raw.float() / 255)
    assert x.max().item() == 1.0 and x[0, 1].item() == np.float32(0.2)
    assert y.dtype == torch.int64 and y.tolist() == [1, 0]
    assert torch.equal(as_inputs(torch.tensor([[True, False]])), torch.tensor([[1.0, 0.0]]))


class _Uint8Task:
    """A task of the user's own: uint8 images and int32 labels in every split."""

    num_classes = 2
    name = "mine"

    def split(self, name):
        return np.array([[0, 255], [255, 0], [51, 204]], dtype=np.uint8), np.array([0, 1, 0], dtype=np.int32)


def test_a_task_of_uint8_splits_reads_like_from_examples():
    t = tasks.resolve(_Uint8Task())
    x, y = t.split("test")
    ref = tasks.from_examples(*_Uint8Task().split("test"), val_fraction=0, test_fraction=0).split("train")
    assert torch.equal(x, ref[0]) and torch.equal(y, ref[1])
