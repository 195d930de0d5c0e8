"""`metanet.verify.verify_stacked` with parameters of another dtype than its module's (float64 members of a float32
network) on a module whose forward reads a weight through a plain list: each member runs on the module itself, so
its values were cast to float32 while the inputs followed the members' float64 (a raw "mat1 and mat2 must have the
same dtype"). Refused as an ArchError naming both dtypes; the module is left as it was. Members of its own dtype
still run, each on its own weight."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet.errors import ArchError
from metanet.verify import verify_stacked


class Listed(nn.Module):
    """A 6-3 linear layer whose weight is read through a plain list."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(6, 3)
        self.weights = [self.fc.weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weights[0], self.fc.bias)


def _stack(dtype: torch.dtype) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {"fc.weight": torch.randn(3, 3, 6, generator=g, dtype=dtype),
            "fc.bias": torch.randn(3, 3, generator=g, dtype=dtype)}


def test_members_of_another_dtype_are_refused_naming_both() -> None:
    module = Listed()
    before = {n: t.clone() for n, t in module.state_dict().items()}
    x, y = torch.randn(20, 6, generator=torch.Generator().manual_seed(2)), torch.arange(20) % 3
    task = SimpleNamespace(name="toy", num_classes=3)
    with pytest.raises(ArchError, match="float64.*float32"):
        verify_stacked(module, _stack(torch.float64), task, data=(x, y))
    for n, t in module.state_dict().items():
        assert torch.equal(t, before[n]), n
    # float32 members: each scored on its own weight, as that network alone would be
    params = _stack(torch.float32)
    got = [r.loss for r in verify_stacked(module, params, task, data=(x, y))]
    want = [F.cross_entropy(F.linear(x, params["fc.weight"][i], params["fc.bias"][i]), y).item() for i in range(3)]
    assert got == pytest.approx(want, rel=1e-6)
