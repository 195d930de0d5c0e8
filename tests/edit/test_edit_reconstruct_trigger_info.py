"""``reconstruct_trigger``'s ``info`` dict holds the keys its docstring names: it documented "per-class mask norms
and anomaly indices" while returning also the suspect class, its anomaly index and mask concentration, the
threshold and whether a trigger was found, under names the docstring did not give."""

from __future__ import annotations

import re

import torch

from metanet.edit import reconstruct_trigger
from metanet.nets import build


def test_reconstruct_trigger_info_keys_are_the_documented_ones():
    x = torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    trigger, info = reconstruct_trigger(build("mlp:64-8-10:relu", seed=0), x, 10, steps=3, batch=16)
    doc = reconstruct_trigger.__doc__
    named = set(re.findall(r"``(\w+)``", doc[doc.index("Returns"):doc.index("Raises:")]))
    assert set(info) <= named, f"returned but not documented: {sorted(set(info) - named)}"
    assert len(info["mask_l1"]) == len(info["anomaly_index"]) == 10 and isinstance(info["found"], bool)
    assert (trigger is None) == (not info["found"])
