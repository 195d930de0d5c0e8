"""`metanet.verify` of a network whose user-registered forward pre-hook on a submodule raises: the error names that
module and says a pre-hook raised (the user's pre-hook ran before the probe's own, which never saw the module
entered, so the error was pinned on its parent, or on no layer, as "network does not accept inputs")."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(64, 32), nn.ReLU()), nn.Linear(32, 10))


def _raise(*_args):
    raise RuntimeError("my pre-hook failed")


@pytest.mark.parametrize("with_kwargs", [False, True], ids=["args", "with_kwargs"])
def test_a_raising_forward_pre_hook_names_its_module(with_kwargs):
    model = _net()
    model[1][0].register_forward_pre_hook(_raise, with_kwargs=with_kwargs)
    with pytest.raises(ArchError) as e:
        metanet.verify(model, "digits")
    msg = str(e.value)
    assert msg.startswith("a forward pre-hook raised on inputs of shape (1, 8, 8) from task 'digits', ")
    assert "at module 1.0 (Linear(in_features=64, out_features=32, bias=True))" in msg  # not its parent, module 1
    assert "which gets inputs of shape (64,) per example" in msg and msg.endswith(": my pre-hook failed")


def test_a_forward_failing_after_a_pre_hook_changed_its_inputs_is_still_the_forwards_error():
    model = _net()
    model[2].register_forward_pre_hook(lambda m, args: (args[0][:, :16],))  # the Linear(32, 10) now gets 16 features
    with pytest.raises(ArchError) as e:
        metanet.verify(model, "digits")
    msg = str(e.value)
    assert msg.startswith("network does not accept inputs of shape (1, 8, 8)")
    assert "at module 2 (Linear(in_features=32" in msg and "which gets inputs of shape (16,) per example" in msg


def test_a_pre_hook_that_passes_leaves_the_scores_as_a_plain_loop_gives():
    model = _net()
    calls = []
    model[2].register_forward_pre_hook(lambda m, args: calls.append(1))
    x, y = metanet.tasks.resolve("digits").split("test")
    with torch.no_grad():
        want = (model.eval()(x).argmax(1) == y).double().mean().item()
    assert metanet.verify(model, "digits").accuracy == pytest.approx(want, abs=1e-12)
    assert calls  # the user's hook ran
