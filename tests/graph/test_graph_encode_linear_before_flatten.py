"""A Linear layer before nn.Flatten() (it reads only the input's last axis) is named as such by to_graph."""

import pytest
import torch
from torch import nn

from metanet.errors import GraphError
from metanet.graph import to_graph


def test_a_linear_before_flatten_is_named_with_the_fix():
    # Linear(8, 16) on (N, 1, 8, 8) images: 16 features per row, 128 once flattened; "produces 16" alone contradicted
    # the 128 the next layer gets
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Flatten(), nn.Linear(128, 10))
    assert net(torch.rand(2, 1, 8, 8)).shape == (2, 10)  # a network torch runs
    with pytest.raises(GraphError, match=r"expects 128 input features but layer 0 \(Linear 8->16\) produces 16; .*"
                                         r"last axis.* 16 outputs at each of 8 positions.*put nn.Flatten\(\) before "
                                         r"the first Linear layer"):
        to_graph(net)


def test_a_plain_width_mismatch_keeps_its_short_message():
    for net in (nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(32, 10)),  # no Flatten between
                nn.Sequential(nn.Linear(8, 16), nn.Flatten(), nn.Linear(16, 4), nn.Linear(8, 2)),  # flatten is older
                nn.Sequential(nn.Linear(8, 16), nn.Flatten(), nn.Linear(24, 10))):  # not a multiple of 16
        with pytest.raises(GraphError, match=r"input features but layer \d \(Linear \d+->\d+\) produces \d+$"):
            to_graph(net)
