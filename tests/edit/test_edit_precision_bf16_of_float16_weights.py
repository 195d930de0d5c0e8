"""metanet.edit.quantize to bf16 of a float16 network's largest weights: bf16 has the wider range, but its coarser
rounding takes 65504 (the largest float16) up to 65536, which the network, storing it as float16, holds as inf. The
refusal says so; it read as if bf16 itself could not hold a weight of 65504 ("would become inf" and nothing more)."""

from __future__ import annotations

import pytest
import torch

from metanet import edit
from metanet.errors import ArchError


def test_bf16_rounding_past_the_float16_range_names_the_networks_dtype():
    w = torch.tensor([[65504.0, 1.0], [-2.0, 0.5]], dtype=torch.float16)
    with pytest.raises(ArchError, match=r"to bf16: 1 finite value \(the largest 65504 in size\) would become inf "
                                        r"\(bf16 rounds it past 65504, the largest the network's float16 holds\); "
                                        r"valid formats for them: fp32, fp16, int8, int4, int2$"):
        edit.quantize(w, "bf16")
    ok = torch.tensor([[60000.0, 1.0]], dtype=torch.float16)  # bf16 rounds it to 59904: finite
    assert torch.equal(edit.quantize(ok, "bf16"), torch.tensor([[59904.0, 1.0]], dtype=torch.float16))
