"""``verify.copy_network`` of a network whose weight is a ``nn.Parameter`` subclass with its own ideas about copying,
also read through a view kept in a plain list (made under ``torch.no_grad()``). A ``__deepcopy__`` that shares the
weight (returns ``self``) had the caller's weight moved onto the copy's memory (``.data =``): the caller's network
changed, its slot and its view on different memory. A subclass refusing ``.data =`` made every copy a raw
AttributeError (refine, prune, verify of such a network); it is copied as its ``__deepcopy__`` makes it, as before."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metanet.verify import copy_network


class Shared(nn.Parameter):
    def __deepcopy__(self, memo: dict) -> "Shared":
        return self


class NoData(nn.Parameter):
    def __setattr__(self, key: str, value: object) -> None:
        if key == "data":
            raise AttributeError("NoData refuses .data")
        super().__setattr__(key, value)


class SubView(nn.Module):
    """A 64-10 linear network whose weight (of type ``cls``) the forward reads through a no_grad view."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(64, 10)
        self.fc.weight = cls(self.fc.weight.detach().clone())
        with torch.no_grad():
            self.wt = [self.fc.weight.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.wt[0].t(), self.fc.bias)


def test_a_weight_its_deepcopy_shares_is_left_on_the_caller_s_memory():
    net = SubView(Shared)
    at = net.fc.weight.data_ptr()
    c = copy_network(net)
    assert c.fc.weight is net.fc.weight  # shared, as its __deepcopy__ asks
    assert net.fc.weight.data_ptr() == at == net.wt[0].data_ptr()  # the caller's slot and view: still one memory


def test_a_subclass_refusing_data_assignment_is_copied():
    net = SubView(NoData)
    x = torch.linspace(-1, 1, 3 * 64).view(3, 64)
    c = copy_network(net)
    assert type(c.fc.weight) is NoData
    with torch.no_grad():
        torch.testing.assert_close(c(x), net(x))
