"""A channel's outgoing norm is that of every weight reading it: input channel j of the next convolution (all its
output channels and kernel positions), also when that convolution has more output channels than it reads."""

from __future__ import annotations

import pytest

from metanet.inspect import inspect
from metanet.nets import build


def test_a_channel_out_norm_is_its_input_slice_of_the_next_convolution():
    m = build("cnn:1-3-5-10:relu:k3:s1", seed=0).eval()  # layer 2 reads 3 channels into 5: (5, 3, 3, 3)
    db = inspect(m, "digits", reader=None, max_examples=20)
    nxt, head = m.layers[1].weight.detach(), m.layers[2].weight.detach()
    assert tuple(nxt.shape) == (5, 3, 3, 3)
    for j in range(3):
        assert db[(1, j)]["out_norm"] == pytest.approx(float(nxt[:, j].norm()), rel=1e-5)
        assert db[(1, j)]["in_norm"] == pytest.approx(float(m.layers[0].weight[j].detach().norm()), rel=1e-5)
    for j in range(5):
        assert db[(2, j)]["out_norm"] == pytest.approx(float(head[:, j].norm()), rel=1e-5)
