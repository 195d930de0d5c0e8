"""verify() and refine() on a ``torch.compile``-d module: refused naming the module to pass (``compiled._orig_mod``),
as save, inspect and read refuse it. Its copy was run through ``vmap`` / ``functional_call``, which torch._dynamo
failed inside with a raw AssertionError ('UnspecializedNNModuleVariable(Sequential) is already tracked for
mutation')."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


@pytest.mark.parametrize("call", ["verify", "verify-list", "refine"])
def test_a_compiled_module_is_refused_naming_the_module_it_wraps(call):
    net = _net()
    compiled = torch.compile(net)
    with pytest.raises(ArchError, match=r"torch\.compile wrapper; pass the module you compiled \(compiled\._orig_mod\)"):
        if call == "verify":
            metanet.verify(compiled, "digits")
        elif call == "verify-list":
            metanet.verify([net, compiled], "digits")
        else:
            metanet.refine(compiled, "digits", steps=1, population=1)
    assert 0 <= metanet.verify(compiled._orig_mod, "digits").accuracy <= 1  # what the message says works
