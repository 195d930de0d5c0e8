"""`metanet.verify` of a network whose user-registered forward hook on a submodule raises: the error names that
module, as it does when the module's own forward raises (the hook ran after the forward returned, so the module
left with its output and the error was pinned on the network as a whole, naming no layer)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def test_a_raising_forward_hook_names_its_module():
    model = _net()

    def hook(m, inputs, out):
        raise RuntimeError("my hook failed")

    model[3].register_forward_hook(hook)
    with pytest.raises(ArchError) as e:
        metanet.verify(model, "digits")
    msg = str(e.value)
    assert "at module 3 (Linear(in_features=32, out_features=10, bias=True))" in msg
    assert "which gets inputs of shape (32,) per example" in msg and msg.endswith(": my hook failed")
    # the hook raised, not the inputs misfit: said so (it read "network does not accept inputs of shape (1, 8, 8)")
    assert msg.startswith("a forward hook raised on inputs of shape (1, 8, 8) from task 'digits'")


def test_a_raising_forward_names_its_module_also_when_called_while_handling_another_error():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))  # digits has 64 features: the Linear's forward raises
    try:
        raise KeyError("the caller's own")
    except KeyError:
        with pytest.raises(ArchError, match=r"at module 1 \(Linear\(in_features=16"):
            metanet.verify(model, "digits")
    healthy = _net()
    try:
        raise KeyError("the caller's own")
    except KeyError:  # its hooks run with the caller's error in sys.exc_info(): no failure is made up
        assert metanet.verify(healthy, "digits").n > 0
