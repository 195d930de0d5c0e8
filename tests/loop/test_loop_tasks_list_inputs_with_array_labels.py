"""Inputs as a Python list with labels as an array (``(x.tolist(), y)``) are one loop task, as generate takes them
(only a list of labels was, the array was refused as 'got list'); empty lists and bool labels get from_examples'
message, not 'got list'."""

import numpy as np
import pytest
import torch

from metanet.errors import TaskError
from metanet.loop.tasks import as_loop_tasks


def _examples():
    x = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    return x, np.arange(40) % 2


@pytest.mark.parametrize("labels", [np.asarray, torch.as_tensor])
def test_list_inputs_with_array_labels_split_as_the_arrays(labels):
    x, y = _examples()
    (a,) = as_loop_tasks((x, y), seed=3)
    (b,) = as_loop_tasks((x.tolist(), labels(y)), seed=3)
    for part in ("support", "val", "test"):
        assert torch.equal(getattr(a, part)[0], getattr(b, part)[0])
        assert torch.equal(getattr(a, part)[1], getattr(b, part)[1])


def test_empty_lists_and_bool_labels_get_the_examples_message():
    x, y = _examples()
    with pytest.raises(TaskError, match=r"^x is empty"):
        as_loop_tasks(([], []))
    with pytest.raises(TaskError, match=r"^y has dtype bool"):
        as_loop_tasks((x.tolist(), [bool(v) for v in y]))
