"""refine of a network whose forward reads a weight through a view kept in a plain list (``self.cache = [w.t()]``
made under ``torch.no_grad()``): refine's deep copy cloned the Parameter apart from its memory, so the view went on
reading the old values and the perturbed, refined weight was never run (Adam random-walked it, and the returned
network's forward read the caller's values). Refined now as the same function reading the weight from its slot. A
view made stale (its weight changed in place after) was torch's raw RuntimeError from the copy: the copy's view is
made anew, so it is refined too; only verifying the caller's network (verify_on) refuses it, as verify does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet
from metanet.errors import ArchError


class ViewWeight(nn.Module):
    """A 64-16-10 MLP whose first layer's weight is read through a no_grad view (``viewed``) or its slot."""

    def __init__(self, viewed: bool) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 16), nn.Linear(16, 10)
        self.viewed = viewed
        with torch.no_grad():
            self.cache = [self.fc1.weight.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0].t() if self.viewed else self.fc1.weight
        return self.fc2(F.relu(F.linear(x.flatten(1), w, self.fc1.bias)))


@pytest.mark.parametrize("stale", [False, True])
def test_perturbation_refine_refines_the_weight_a_view_reads(stale):
    torch.manual_seed(0)
    viewed, plain = ViewWeight(True), ViewWeight(False)
    if stale:
        with torch.no_grad():
            viewed.fc1.weight.add_(0.01)  # the view's autograd record is stale now (its values are not)
    plain.load_state_dict(viewed.state_dict())
    w0 = viewed.fc1.weight.detach().clone()
    x, y = torch.randn(96, 64), torch.arange(96) % 10  # tiny examples: the bug needs no real task
    kw = dict(method="perturbation", steps=6, population=4, lr=1e-2, batch_size=32, verify_on=None)
    a = metanet.refine(viewed, (x, y), **kw)
    b = metanet.refine(plain, (x, y), **kw)
    assert torch.equal(viewed.fc1.weight, w0)  # the caller's network is left as it was
    for name, p in b.model.named_parameters():
        torch.testing.assert_close(dict(a.model.named_parameters())[name], p, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.tensor(a.history), torch.tensor(b.history), rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # the returned network runs the refined weight
        torch.testing.assert_close(a.model(x[:8]), b.model(x[:8]))


def test_refine_of_a_stale_no_grad_view_is_an_arch_error_saying_what_to_do():
    net = ViewWeight(True)
    with torch.no_grad():
        net.fc1.weight.add_(1.0)  # the view's autograd record is stale now (its values are not)
    x, y = torch.randn(32, 64), torch.arange(32) % 10
    with pytest.raises(ArchError, match=r"view of a tensor made under torch\.no_grad\(\) whose base was changed in "
                                        r"place since; make the view again"):
        metanet.refine(net, (x, y), steps=2)  # verify_on: the caller's network is verified before and after
