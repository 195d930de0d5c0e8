"""``verify.copy_network`` (the copy every edit, ``precision`` and ``refine`` work on) of a network whose forward reads
its weight through a view kept as a plain attribute (``self.wt = w.t()``). Made with grad, the view is a non-leaf
tensor that was copied detached: the copy's forward read the old values, so a pruned copy ran unpruned (the edits'
plain deepcopy had raised on it before). Made under ``torch.no_grad()`` and the weight changed since (a training
step, ``load_state_dict``), ``is_leaf`` raised torch's RuntimeError. The view now stays on the copy's weight."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet import edit
from metanet.nets import MLP
from metanet.verify import copy_network


class AttrView(nn.Module):
    def __init__(self, grad: bool) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(8, 4)
        with torch.set_grad_enabled(grad):
            self.wt = self.fc.weight.t()
        if not grad:
            with torch.no_grad():
                self.fc.weight.mul_(2)  # as a training step would: the no_grad view is now stale to autograd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.wt.t(), self.fc.bias)


@pytest.mark.parametrize("grad", [True, False])
def test_the_copy_s_view_reads_the_copy_s_weight(grad):
    net = AttrView(grad)
    x = torch.randn(3, 8)
    with torch.no_grad():
        before = net(x)
        c = copy_network(net)
        torch.testing.assert_close(c(x), before)
        c.fc.weight.zero_()
        torch.testing.assert_close(c(x), c.fc.bias.expand(3, 4))  # the forward reads the copy's (zeroed) weight
        torch.testing.assert_close(net(x), before)  # the caller's network is left alone
    assert c.wt.untyped_storage().data_ptr() == c.fc.weight.untyped_storage().data_ptr()


class AttrMLP(MLP):
    """A 64-10 MLP whose forward reads its weight through ``self.wt`` made with grad, or from its slot."""

    def __init__(self, slot: bool) -> None:
        torch.manual_seed(0)  # the same weights for both
        super().__init__("mlp:64-10:relu")
        self.slot = slot
        self.wt = self.layers[0].weight.t()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.layers[0].weight if self.slot else self.wt.t()
        return F.linear(x.flatten(1), w, self.layers[0].bias)


def test_a_pruned_copy_runs_pruned():
    x, y = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(1)), torch.arange(40) % 10
    a, b = edit.prune(AttrMLP(False), 0.8, (x, y)), edit.prune(AttrMLP(True), 0.8, (x, y))
    with torch.no_grad():
        torch.testing.assert_close(a.model.eval()(x), b.model.eval()(x))
    assert a.report.after.loss == pytest.approx(b.report.after.loss, rel=1e-5)
