"""refine() on half-precision networks it cannot run as their float32 copy: a network mixing float16 / bfloat16 with
float32 was a raw RuntimeError mid-step (or an ArchError blaming the task's input shape), and a half network keeping a
view of its weight in a plain list an ArchError saying it 'does not accept inputs'. Both now name the dtypes and what
is valid; a network keeping the Parameter itself in a list is refined as before."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.errors import ArchError
from metanet.loop import refine

METHODS = ["perturbation", "activity", "sgd"]


class FloatThenHalf(nn.Module):
    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.fc, self.out = nn.Linear(64, 16), nn.Linear(16, 10).to(dtype)

    def forward(self, x):
        return self.out(torch.relu(self.fc(x.flatten(1))).to(self.out.weight.dtype))


class HalfThenFloat(nn.Module):
    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.fc, self.out = nn.Linear(64, 16).to(dtype), nn.Linear(16, 10)

    def forward(self, x):
        return self.out(torch.relu(self.fc(x.flatten(1).to(self.fc.weight.dtype))).float())


class KeepsView(nn.Module):
    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.fc = nn.Linear(64, 10).to(dtype)
        with torch.no_grad():
            self.cache = [self.fc.weight.t()]  # a view on the weight's memory, read in forward

    def forward(self, x):
        return x.flatten(1).to(self.cache[0].dtype) @ self.cache[0] + self.fc.bias


class KeepsParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.ws = [self.fc.weight]  # the Parameter itself: .float() casts it in its slot

    def forward(self, x):
        return x.flatten(1).to(self.ws[0].dtype) @ self.ws[0].t() + self.fc.bias


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("make", [FloatThenHalf, HalfThenFloat])
def test_refine_refuses_a_network_mixing_half_precision_with_float32(make, dtype, method):
    torch.manual_seed(0)
    net = make(dtype)
    half = str(dtype).replace("torch.", "")
    first, second = ("float32", half) if make is FloatThenHalf else (half, "float32")
    with pytest.raises(ArchError, match=f"fc.weight is {first} but out.weight is {second}; valid: every floating "
                                        r"parameter and buffer of one dtype"):
        refine(net, "digits", method=method, steps=2, population=2)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_refine_refuses_a_half_network_keeping_a_view_of_its_weight(dtype, method):
    torch.manual_seed(0)
    half = str(dtype).replace("torch.", "")
    with pytest.raises(ArchError, match=f"this {half} KeepsView: it keeps fc.weight .*outside its registered slot.*"
                                        "valid: a float32 network"):
        refine(KeepsView(dtype), "digits", method=method, steps=2, population=2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_refine_a_half_network_keeping_its_parameter_itself_in_a_list(dtype):
    """The kept Parameter follows the float32 cast and back: refined, in the network's dtype, and the copy's list
    still holds its own weight (not refused as a view would be)."""
    torch.manual_seed(0)
    net = KeepsParameter().to(dtype)
    for method in ("perturbation", "sgd"):
        res = refine(net, "digits", method=method, steps=3, population=2)
        assert res.model.ws[0] is res.model.fc.weight and res.model.fc.weight.dtype == dtype
        assert not torch.equal(res.model.fc.weight, net.fc.weight)  # refined
        assert res.after is not None and 0 <= res.after.accuracy <= 1
