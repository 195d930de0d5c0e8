"""A network holding a view of its weight made under torch.no_grad() (``self.cache = [fc.weight.t()]``), whose weight
was then changed in place, cannot be deep-copied by torch: verify and refine said so with a raw RuntimeError ("A
view was created in no_grad mode and its base or another view of its base has been modified inplace ..."); it is
an ArchError saying what to do (verify; refine's copy still raises torch's error)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


class Cached(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        with torch.no_grad():
            self.cache = [self.fc.weight.t()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.cache[0] + self.fc.bias


def _stale() -> Cached:
    net = Cached()
    with torch.no_grad():
        net.fc.weight.add_(1.0)
    return net


@pytest.mark.parametrize("call", ["verify", "verify list"])
def test_a_stale_no_grad_view_is_an_arch_error_saying_what_to_do(call):
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    run = {"verify": lambda: metanet.verify(_stale(), (x, y)),
           "verify list": lambda: metanet.verify([_stale(), _stale()], (x, y))}[call]
    with pytest.raises(ArchError, match=r"a view of a tensor made under torch\.no_grad\(\) whose base was changed in "
                                        r"place since; make the view again"):
        run()


class Plain(nn.Module):
    def __init__(self, fc: nn.Linear) -> None:
        super().__init__()
        self.fc = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.fc.weight.t() + self.fc.bias


def test_the_view_made_again_is_verified_as_the_weight_read_directly():
    net = _stale()
    with torch.no_grad():
        net.cache = [net.fc.weight.t()]
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    assert metanet.verify(net, (x, y)).accuracy == metanet.verify(Plain(net.fc), (x, y)).accuracy
