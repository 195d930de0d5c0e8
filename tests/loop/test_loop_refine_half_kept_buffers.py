"""refine() of a half-precision network that keeps a buffer outside its slot. A view of an integer buffer (an input
permutation) is not cast by the float32 round trip, yet it was refused as 'keeps lin.weight (or a view of it) outside
its registered slot', naming a weight it does not keep; a floating buffer kept itself in a list is left half by the
cast (``.float()`` registers a new buffer tensor), and was the misleading "does not accept inputs ... must have the
same dtype" the check exists to replace."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.errors import ArchError
from metanet.loop import refine

METHODS = ["perturbation", "activity", "sgd"]


def _examples() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g)
    return x, (x[:, 0] > 0).long()


class KeepsIndexView(nn.Module):
    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 2).to(dtype)
        self.register_buffer("perm", torch.tensor([3, 2, 1, 0]))
        self.order = [self.perm[:]]  # a view of the integer buffer, read in forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.to(self.lin.weight.dtype)[:, self.order[0]])


class KeepsBuffer(nn.Module):
    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 2).to(dtype)
        self.register_buffer("scale", torch.full((4,), 0.5, dtype=dtype))
        self.kept = [self.scale]  # the buffer itself, read in forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.to(self.kept[0].dtype) * self.kept[0])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_half_network_keeping_a_view_of_an_integer_buffer_is_refined(dtype, method):
    torch.manual_seed(0)
    net = KeepsIndexView(dtype)
    res = refine(net, _examples(), method=method, steps=2, population=2, num_classes=2)
    assert res.model.lin.weight.dtype == dtype and res.model.perm.dtype == torch.int64
    assert torch.equal(res.model.order[0], torch.tensor([3, 2, 1, 0]))
    assert not torch.equal(res.model.lin.weight, net.lin.weight)  # refined
    assert res.after is not None and 0 <= res.after.accuracy <= 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_half_network_keeping_a_floating_buffer_itself_is_refused_naming_it(dtype, method):
    torch.manual_seed(0)
    net = KeepsBuffer(dtype)
    assert net(_examples()[0]).dtype == dtype  # the network itself runs
    half = str(dtype).replace("torch.", "")
    with pytest.raises(ArchError, match=f"this {half} KeepsBuffer: it keeps scale .*outside its registered slot.*"
                                        "valid: a float32 network"):
        refine(net, _examples(), method=method, steps=2, population=2, num_classes=2)


def test_a_float32_network_keeping_its_buffer_is_refined():
    torch.manual_seed(0)
    res = refine(KeepsBuffer(torch.float32), _examples(), method="sgd", steps=2, num_classes=2)
    assert res.model.kept[0] is res.model.scale and res.model.lin.weight.dtype == torch.float32
