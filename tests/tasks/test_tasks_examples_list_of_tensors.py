"""from_examples reads a list of tensors ([x for x, _ in ds]) as the one tensor they stack into, as a single tensor
and resolve.as_examples read them: np.asarray refused a list of tensors that require grad (embeddings of a model) or
are bfloat16, which one tensor of them is read as; a list mixing uint8 and float examples is refused by name."""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError


def _examples() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 17, (30, 1, 4, 4), generator=g).float() / 16  # exact in bfloat16 too
    return x, torch.arange(30) % 3


def test_a_list_of_tensors_that_require_grad_is_the_task_of_their_stack() -> None:
    x, y = _examples()
    want = tasks.from_examples(x, y)
    got = tasks.from_examples(list(x.clone().requires_grad_()), y)
    assert got.name == want.name and got.input_shape == (1, 4, 4)
    assert torch.equal(got.split("train")[0], want.split("train")[0])


def test_a_list_of_bfloat16_tensors_reads_as_one_bfloat16_tensor_does() -> None:
    x, y = _examples()
    got = tasks.from_examples(list(x.bfloat16()), list(y))  # labels as a list of 0-d tensors too
    assert got.name == tasks.from_examples(x.bfloat16(), y).name == tasks.from_examples(x, y).name


def test_a_list_mixing_uint8_and_float_examples_is_refused_by_name() -> None:
    x, y = _examples()
    mixed = [(x[0] * 255).to(torch.uint8), *x[1:]]
    with pytest.raises(TaskError, match=r"x is a list of tensors of dtypes torch\.float32, torch\.uint8; give every "
                                        r"example one dtype"):
        tasks.from_examples(mixed, y)


def test_a_list_of_tensors_of_different_shapes_is_one_task_error() -> None:
    x, y = _examples()
    with pytest.raises(TaskError, match="x is a list of tensors that do not stack into one"):
        tasks.from_examples([x[0, :, :3], *x[1:]], y)
