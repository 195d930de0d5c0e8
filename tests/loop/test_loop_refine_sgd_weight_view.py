"""``refine(method="sgd")`` of a network whose forward reads a weight through a view kept in a plain list. Made with
grad, the view was detached in refine's copy: backprop gave the weight no gradient and it came back unrefined while
the network was reported refined. Now refined as the same network reading the weight from its slot. Made under
``torch.no_grad()`` (or from ``.data``), backprop cannot reach the weight: a clear ArchError, not a silent no-op."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.verify import copy_network


class ViewWeight(nn.Module):
    """A 64-10 linear network whose weight the forward reads through ``self.wt`` (made as ``how`` says) or its slot."""

    def __init__(self, how: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(64, 10)
        self.how = how
        with torch.set_grad_enabled(how == "grad"):
            self.wt = [self.fc.weight.data.t() if how == "data" else self.fc.weight.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.fc.weight if self.how == "slot" else self.wt[0].t()
        return F.linear(x.flatten(1), w, self.fc.bias)


def _examples() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linspace(-1, 1, 64 * 64).view(64, 64).sin(), torch.arange(64) % 10


KW = dict(method="sgd", steps=3, lr=1e-2, batch_size=32, verify_on=None)


def test_backprop_through_a_grad_copy_s_view_reaches_the_copy_s_weight():
    net = ViewWeight("grad")
    x = _examples()[0][:3]
    net(x).square().sum().backward()
    c = copy_network(net, grad=True)
    c(x).square().sum().backward()
    torch.testing.assert_close(c.fc.weight.grad, net.fc.weight.grad)
    with torch.no_grad():
        c.fc.weight.zero_()
        torch.testing.assert_close(c(x), c.fc.bias.expand(3, 10))  # it reads the copy's (zeroed) weight
        assert copy_network(c).wt[0].grad_fn is None  # by default detached, as verify needs a copy


def test_sgd_refines_a_weight_read_through_a_view_made_with_grad():
    net = ViewWeight("grad")
    w0 = net.fc.weight.detach().clone()
    a = metanet.refine(net, _examples(), **KW)
    b = metanet.refine(ViewWeight("slot"), _examples(), **KW)
    assert not torch.equal(a.model.fc.weight, w0)
    torch.testing.assert_close(a.model.fc.weight, b.model.fc.weight)
    assert a.history == pytest.approx(b.history, rel=1e-6)
    assert torch.equal(net.fc.weight, w0)  # the caller's network is left as it was
    with torch.no_grad():  # the returned network's view reads its refined weight
        torch.testing.assert_close(a.model(_examples()[0]), b.model(_examples()[0]))


@pytest.mark.parametrize("how", ["nograd", "data"])
def test_sgd_on_a_weight_read_through_a_no_grad_view_is_an_arch_error(how):
    with pytest.raises(ArchError, match=r"method='sgd' cannot refine parameter 'fc\.weight': the forward reads it "
                                        r"through a view .* use method='perturbation'"):
        metanet.refine(ViewWeight(how), _examples(), **KW)
