"""refine of a dynamically quantized network (torch.ao.quantization.quantize_dynamic) names the quantization: its
packed int8 layers have no parameters, and the error said the network "has none", as if it were empty."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from metanet.errors import ArchError
from metanet.loop import refine
from metanet.nets import build


@pytest.mark.parametrize("method", ["perturbation", "sgd"])
def test_refine_of_a_quantized_network_names_the_quantization(method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated, yet in users' code
        q = torch.ao.quantization.quantize_dynamic(build("mlp:64-12-10:relu", seed=0).eval(), {nn.Linear},
                                                   dtype=torch.qint8)
    with pytest.raises(ArchError, match=r"layers \['layers\.0', 'layers\.1'\] are quantized.*quantize_dynamic"):
        refine(q, "digits", method=method, steps=1)
