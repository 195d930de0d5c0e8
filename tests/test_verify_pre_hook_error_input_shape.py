"""`metanet.verify`'s shape probe with a user's forward pre-hook that raises (registered before the probe's own, so
it runs first): the probe's record of the modules being run stays right, so the error names no layer with the
wrong inputs (the pre-hook's layer was said to get the network's own inputs, (4,), where it gets (8,))."""

from __future__ import annotations

import pytest
from torch import nn

from metanet.errors import ArchError
from metanet.verify import check_fits


def test_a_raising_pre_hook_is_not_blamed_on_the_wrong_inputs():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

    def pre(module, inputs):
        raise RuntimeError("boom from a pre-hook")

    net[2].register_forward_pre_hook(pre)
    with pytest.raises(ArchError) as err:
        check_fits(net, (4,), 3)
    message = str(err.value)
    assert message.endswith(": boom from a pre-hook")
    assert "gets inputs of shape (4,)" not in message  # layer 2 reads 8 numbers per example
    # the probe's hooks are gone, the user's stays
    assert list(net[2]._forward_pre_hooks.values()) == [pre]
    assert not any(m._forward_hooks for m in net.modules())
