"""refine(method="perturbation") on a network whose forward reads a weight through a plain list (``self.cache =
[self.fc1.weight]``): the perturbed population ran on a meta copy through ``functional_call``, which swaps only the
registered tensor, so every member read the unperturbed weight from the list; the estimate for that weight was pure
noise and Adam random-walked it in the returned network. The same function reading ``self.fc1.weight`` directly is
refined to the very same weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import metanet


class ListWeight(nn.Module):
    """A 64-16-10 MLP whose first layer's weight is read through a plain list (``cached``) or its slot."""

    def __init__(self, cached: bool) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 16), nn.Linear(16, 10)
        self.cached = cached
        self.cache = [self.fc1.weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0] if self.cached else self.fc1.weight
        return self.fc2(F.relu(F.linear(x.flatten(1), w, self.fc1.bias)))


def test_perturbation_refine_perturbs_a_weight_read_through_a_plain_list():
    torch.manual_seed(0)
    listed, plain = ListWeight(True), ListWeight(False)
    plain.load_state_dict(listed.state_dict())
    w0 = listed.fc1.weight.detach().clone()
    x, y = torch.randn(96, 64), torch.arange(96) % 10  # tiny examples: the bug needs no real task
    kw = dict(method="perturbation", steps=6, population=4, lr=1e-2, batch_size=32, verify_on=None)
    a = metanet.refine(listed, (x, y), **kw)
    b = metanet.refine(plain, (x, y), **kw)
    assert torch.equal(listed.fc1.weight, w0)  # the caller's network is left as it was
    assert a.model.cache[0] is a.model.fc1.weight  # the copy's list still holds its registered weight
    for name, p in b.model.named_parameters():
        torch.testing.assert_close(dict(a.model.named_parameters())[name], p, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.tensor(a.history), torch.tensor(b.history), rtol=1e-5, atol=1e-6)
