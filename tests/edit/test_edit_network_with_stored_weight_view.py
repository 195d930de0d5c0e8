"""Edits of a network whose forward reads a weight through a view kept in a plain list (``self.cache = [w.t()]``
made under ``torch.no_grad()``, or ``[w.data.t()]``): the edit's deep copy cloned the Parameter apart from its
memory, so the view went on reading the old values. A pruned copy ran unpruned (the report measured the unpruned
network, the weights said 80% zeros), a precision edit had no effect, and necessity pruning saw no gradient for the
weight (all of it looked free to remove). Each now edits the network its forward reads: the same result as a twin
reading the weight from its slot."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet import edit
from metanet.nets import MLP, build


class ViewMLP(MLP):
    """A 64-32-10 MLP whose first weight the forward reads through ``self.cache``: a view of it (``how``), or the
    weight itself from its slot (``"slot"``)."""

    def __init__(self, how: str) -> None:
        super().__init__("mlp:64-32-10:relu")
        self.how = how
        self.load_state_dict(build("mlp:64-32-10:relu", seed=0).state_dict())
        w = self.layers[0].weight
        with torch.no_grad():
            self.cache = {"view": [w.t()], "data": [w.data.t()], "slot": []}[how]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0].t() if self.cache else self.layers[0].weight
        return self.layers[1](self.act(F.linear(x.flatten(1), w, self.layers[0].bias)))


def _logits(m: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return m.eval()(torch.linspace(-2, 2, 5 * 64).view(5, 1, 8, 8))


def _same_edit(a, b) -> None:
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    torch.testing.assert_close(_logits(a.model), _logits(b.model))  # the view reads the edited weight
    assert a.report.after.accuracy == b.report.after.accuracy
    assert a.report.after.loss == pytest.approx(b.report.after.loss, rel=1e-5)


@pytest.mark.parametrize("how", ["view", "data"])
def test_magnitude_pruning_acts_on_the_weight_the_view_reads(how):
    a = edit.prune(ViewMLP(how), 0.8, "digits")
    b = edit.prune(ViewMLP("slot"), 0.8, "digits")
    _same_edit(a, b)
    assert a.model.cache[0].untyped_storage().data_ptr() == a.model.layers[0].weight.untyped_storage().data_ptr()


def test_a_precision_edit_acts_on_the_weight_the_view_reads():
    _same_edit(edit.precision(ViewMLP("view"), {0: "int2"}, "digits"),
               edit.precision(ViewMLP("slot"), {0: "int2"}, "digits"))


def test_necessity_saliency_reaches_a_weight_read_through_a_no_grad_view():
    a = edit.prune(ViewMLP("view"), 0.5, "digits", method="necessity", max_examples=32)
    b = edit.prune(ViewMLP("slot"), 0.5, "digits", method="necessity", max_examples=32)
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters()):
        assert torch.equal(p == 0, q == 0), name  # the same connections pruned
    _same_edit(a, b)


def test_the_caller_s_network_and_its_view_are_left_alone():
    net = ViewMLP("view")
    before = _logits(net)
    edit.prune(net, 0.8, "digits")
    torch.testing.assert_close(_logits(net), before)
    assert net.cache[0].untyped_storage().data_ptr() == net.layers[0].weight.untyped_storage().data_ptr()


def test_inplace_pruning_reaches_the_caller_s_view():
    net, twin = ViewMLP("view"), ViewMLP("slot")
    edit.prune(net, 0.8, "digits", inplace=True)
    edit.prune(twin, 0.8, "digits", inplace=True)
    torch.testing.assert_close(_logits(net), _logits(twin))
