"""Which channels of a conv layer read by a Linear after ``nn.Flatten`` no longer work (``silenced`` in
``metanet/edit/neurons.py``): channel ``j`` of a 3-channel 4x4 map is read through Linear columns ``16*j .. 16*j+15``
(one per position), so a channel counts as silenced only when all 16 of its columns are 0 in every row. A CNN of
metanet's own reads its last conv through global average pooling (one column per channel) and never checked this."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit, tasks
from metanet.edit.neurons import silenced
from metanet.errors import ArchError
from metanet.inspect.netview import NetView

TASK = tasks.get("digits")  # 1x8x8 images, 10 classes


def _net() -> nn.Sequential:
    """8x8 -> 3 channels of 4x4 -> Flatten (48 features: channel j at 16*j .. 16*j+15) -> 10 classes."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 10))
    with torch.no_grad():
        net[3].weight.fill_(0.5)  # every column read (no weight 0 by chance)
    return net.eval()


def test_each_channel_is_read_through_its_own_16_columns():
    net = _net()
    (consumer,) = NetView(net).layer(1).consumers
    assert consumer.group == 16
    with torch.no_grad():
        net[3].weight[:, 0:32] = 0  # channels 0 and 1: no row reads any of their positions
        net[3].weight[:, 32] = 0  # channel 2: its first position unread, its other 15 still read
    assert silenced(NetView(net), 1) == {0, 1}
    with torch.no_grad():
        net[3].weight[:, 33:47] = 0  # channel 2: one position (column 47) of one row left
        net[3].weight[1:, 47] = 0
    assert silenced(NetView(net), 1) == {0, 1}
    with torch.no_grad():
        net[3].weight[0, 47] = 0
    assert silenced(NetView(net), 1) == {0, 1, 2}


def test_a_channel_with_a_position_still_read_keeps_a_scaling_by_0_of_the_others_allowed():
    net = _net()
    with torch.no_grad():
        net[3].weight[:, 32:40] = 0  # channel 2: half its positions pruned, the other half still read
    result = edit.scale(net, "1:0,1", 0.0, TASK)
    assert result.report.details == {"via": "outgoing"}
    w = result.model[3].weight
    assert bool((w[:, :32] == 0).all()) and bool((w[:, 40:] == 0.5).all())
    assert silenced(NetView(result.model), 1) == {0, 1}
    # now channel 2 is the layer's last working channel: scaling it by 0 too is refused, naming the two silenced ones
    with pytest.raises(ArchError, match=r"layer 1 would leave it with no working channel \(it has 3, 0 already "
                                        r"removed, 2 read by no layer \(scaled by 0\)\)"):
        edit.scale(result.model, "1:2", 0.0, TASK)
