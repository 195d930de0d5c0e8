"""`metanet.verify.verify_stacked` on a module whose forward reads a weight through a plain list (the parameter itself,
or a view of it): each stacked member is scored on its own weights. ``functional_call`` swaps only the registered
tensor, so every member read the module's own listed weight (all scored alike); the caller's module is left as it was."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet.verify import verify_stacked


class Listed(nn.Module):
    """A 16-12-4 MLP with dropout whose head weight is read through a plain list (itself or its transpose)."""

    def __init__(self, seed: int, view: bool) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body, self.head, self.drop = nn.Linear(16, 12), nn.Linear(12, 4), nn.Dropout(0.5)
        self.view = view
        with torch.no_grad():  # a view kept as a leaf
            self.weights = [self.head.weight.t() if view else self.head.weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights[0].t() if self.view else self.weights[0]
        return F.linear(self.drop(F.relu(self.body(x))), w, self.head.bias)


@pytest.mark.parametrize("view", [False, True], ids=["same-parameter", "a-view-of-it"])
def test_each_stacked_member_is_scored_on_its_own_listed_weight(view: bool) -> None:
    nets = [Listed(s, view) for s in range(4)]
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 16, generator=g), torch.randint(0, 4, (200,), generator=g)
    with torch.no_grad():
        want = [(n.eval()(x).argmax(1) == y).double().mean().item() for n in nets]
    assert len(set(want)) > 1  # the members differ: one weight for all would show
    module = Listed(9, view).train()
    before = {n: t.clone() for n, t in module.state_dict().items()}
    params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in nets]) for n, _ in
              module.named_parameters()}
    task = SimpleNamespace(name="toy", num_classes=4)
    got = [r.accuracy for r in verify_stacked(module, params, task, data=(x, y), batch_size=64)]
    assert got == pytest.approx(want, abs=1e-12)
    for n, t in module.state_dict().items():  # its weights and its training mode are put back
        assert torch.equal(t, before[n]), n
    assert module.training and module.drop.training
    copy.deepcopy(module)  # a view kept from no_grad stays usable (a bumped version counter made this a RuntimeError)
