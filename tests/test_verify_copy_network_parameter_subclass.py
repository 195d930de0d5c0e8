"""``verify.copy_network`` of a network whose weight is a subclass of ``nn.Parameter`` and is also read through a view
kept in a plain list (``self.cache = [w.t()]`` made under ``torch.no_grad()``). The subclass was left to its own
``__deepcopy__``, which cloned it apart from the memory the copy's view was remade on: the copy's forward read the old
values, so a pruned copy ran unpruned (its report measured the unpruned network). The copy keeps the subclass and its
view reads it. (Attributes set on a Parameter are dropped, as ``copy.deepcopy`` drops them.)"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metanet import edit
from metanet.nets import MLP, build
from metanet.verify import copy_network


class Tagged(nn.Parameter):
    pass


class TaggedView(MLP):
    """A 64-32-10 MLP whose first weight is a ``Tagged``, read through a no_grad view (``viewed``) or its slot."""

    def __init__(self, viewed: bool) -> None:
        super().__init__("mlp:64-32-10:relu")
        self.load_state_dict(build("mlp:64-32-10:relu", seed=0).state_dict())
        self.layers[0].weight = Tagged(self.layers[0].weight.detach().clone())
        self.viewed = viewed
        with torch.no_grad():
            self.cache = [self.layers[0].weight.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0].t() if self.viewed else self.layers[0].weight
        return self.layers[1](self.act(F.linear(x.flatten(1), w, self.layers[0].bias)))


def test_the_copy_s_view_reads_the_copy_s_subclassed_weight():
    net = TaggedView(True)
    x = torch.linspace(-2, 2, 3 * 64).view(3, 64)
    with torch.no_grad():
        before = net(x)
        c = copy_network(net)
        assert type(c.layers[0].weight) is Tagged and c.layers[0].weight.requires_grad
        torch.testing.assert_close(c(x), before)
        c.layers[0].weight.zero_()
        torch.testing.assert_close(c(x), c.layers[1](c.act(c.layers[0].bias)).expand(3, 10))
        torch.testing.assert_close(net(x), before)  # the caller's network is left alone


def test_pruning_acts_on_the_subclassed_weight_the_view_reads():
    a = edit.prune(TaggedView(True), 0.8, "digits")
    b = edit.prune(TaggedView(False), 0.8, "digits")
    assert type(a.model.layers[0].weight) is Tagged
    torch.testing.assert_close(a.model.layers[0].weight, b.model.layers[0].weight)
    assert a.report.after.accuracy == b.report.after.accuracy  # the report measured the pruned network
