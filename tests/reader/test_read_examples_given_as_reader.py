"""metanet.read(net, (x, y)) or read(net, task): labelled examples or a task where the reader goes are told that read
takes no task (it said only "reader must be a Reader, ... got tuple"); any other object keeps the short message."""

import pytest
import torch

import metanet
from metanet.errors import CheckpointError
from metanet.nets import build
from metanet.tasks import from_examples


@pytest.mark.parametrize("given", [
    lambda: (torch.rand(10, 64), torch.arange(10) % 2),
    lambda: [torch.rand(10, 64), [0, 1] * 5],
    lambda: torch.utils.data.TensorDataset(torch.rand(10, 64), torch.arange(10) % 2),
    lambda: from_examples(torch.rand(10, 64), torch.arange(10) % 2),  # a Task
])
def test_examples_or_a_task_as_reader_say_read_takes_no_task(given):
    net = build("mlp:64-8-10:relu", seed=0)
    with pytest.raises(CheckpointError, match=r"^reader must be a Reader, .* got \w+; read takes no task: .*"
                                              r"metanet\.verify\(model, task\)") as e:
        metanet.read(net, given())
    assert "\n" not in str(e.value)


def test_another_object_keeps_the_short_message():
    with pytest.raises(CheckpointError, match=r"got int$"):
        metanet.read(build("mlp:64-8-10:relu", seed=0), 42)
