"""`metanet.verify` of a network whose parameter is a tensor subclass torch cannot deep-copy (no ``new_empty``):
an ArchError saying so. The copy for the stacked pass met torch's RuntimeError about ``__deepcopy__``, which was
taken for the one about a tensor computed with gradients ("not a graph leaf": false, a Parameter is a leaf)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


class Traced(torch.Tensor):
    """A ``__torch_function__`` subclass without ``new_empty``: torch's default ``__deepcopy__`` refuses it."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return super().__torch_function__(func, types, args, kwargs or {})


def test_an_uncopyable_tensor_subclass_is_named_as_such() -> None:
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    net[1].weight = nn.Parameter(net[1].weight.detach().clone().as_subclass(Traced))
    assert net[1].weight.is_leaf
    with pytest.raises(ArchError, match="tensor subclass that torch cannot deep-copy; implement new_empty") as e:
        metanet.verify(net, "digits")
    assert "gradients" not in str(e.value) and "graph leaf" not in str(e.value)
