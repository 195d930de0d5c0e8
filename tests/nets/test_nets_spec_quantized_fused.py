"""``nets.spec.wrapper_problem`` of a quantized network names every quantized layer, the fused ones too: a dynamic
``LinearReLU`` (``torch.ao.nn.intrinsic.quantized``) was left out of the list, so a network whose quantized layers are
all fused was not named as quantized; and a float16 dynamic quantization is not said to hold "packed integers"."""

from __future__ import annotations

import torch
from torch import nn
import torch.ao.nn.intrinsic as nni

from metanet.nets.spec import wrapper_problem


class _Fused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nni.LinearReLU(nn.Linear(8, 4), nn.ReLU())
        self.out = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.hidden(x))


def test_a_fused_dynamic_layer_is_listed_as_quantized() -> None:
    q = torch.ao.quantization.quantize_dynamic(_Fused(), {nni.LinearReLU, nn.Linear}, dtype=torch.qint8)
    problem = wrapper_problem(q)
    assert problem is not None and "its layers ['hidden', 'out'] are quantized" in problem


def test_a_network_whose_only_quantized_layer_is_fused_is_named_quantized() -> None:
    q = torch.ao.quantization.quantize_dynamic(_Fused(), {nni.LinearReLU}, dtype=torch.qint8)
    problem = wrapper_problem(q)
    assert problem is not None and "its layers ['hidden'] are quantized" in problem


def test_float16_dynamic_quantization_is_not_called_integers() -> None:
    q = torch.ao.quantization.quantize_dynamic(_Fused(), {nn.Linear}, dtype=torch.float16)
    problem = wrapper_problem(q)
    assert problem is not None and "integers" not in problem and "float16" in problem
    assert "its layers ['out'] are quantized" in problem
