"""Round 28: unsupported modules are refused naming the module and what is supported."""

from __future__ import annotations

import pytest
from torch import nn

from metanet.errors import ArchError, GraphError
from metanet.graph import to_graph
from metanet.nets import spec


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.2), nn.GELU(approximate="tanh")], ids=["leaky0.2", "gelu-tanh"])
def test_non_default_activation_is_refused_with_the_supported_list(act):
    net = nn.Sequential(nn.Linear(3, 2), act)
    for fn, err in ((spec, ArchError), (to_graph, GraphError)):
        with pytest.raises(err) as e:
            fn(net)
        msg = str(e.value)
        assert type(act).__name__ in msg and "default configuration" in msg
        assert "supported layers: Linear, Conv2d" in msg and "LeakyReLU" in msg and "SiLU" in msg
