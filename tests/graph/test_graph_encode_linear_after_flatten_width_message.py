"""A width mismatch after a second nn.Flatten(): once a Flatten has made the tensor (N, F), a Linear layer reads all
of it and a later Flatten changes nothing, so the mismatch is a plain wrong width. to_graph said the Linear "comes
before nn.Flatten(), so it reads only its input's last axis" and to "put nn.Flatten() before the first Linear
layer", where one already was (torch itself fails on these networks for every input shape)."""

import pytest
from torch import nn

from metanet.errors import GraphError
from metanet.graph import to_graph


@pytest.mark.parametrize("net", [
    nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Flatten(), nn.Linear(64, 10)),
    nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(144, 10), nn.Flatten(), nn.Linear(20, 2)),
])
def test_a_linear_after_an_earlier_flatten_gets_the_plain_width_message(net):
    with pytest.raises(GraphError, match=r"expects \d+ input features but layer \d \(Linear \d+->\d+\) produces \d+$"):
        to_graph(net)


def test_a_linear_before_the_only_flatten_still_gets_the_fix():
    with pytest.raises(GraphError, match=r"produces 32; layer 0 \(Linear 64->32\) comes before nn.Flatten\(\)"):
        to_graph(nn.Sequential(nn.Linear(64, 32), nn.Flatten(), nn.Linear(64, 10)))
