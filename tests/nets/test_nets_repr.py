"""``print(model)`` of metanet's networks names their architecture: the layers alone hide a skip MLP's residual
connections and a CNN's global average pooling, so a network rebuilt from the printout computed another function."""

from __future__ import annotations

import torch

import metanet
from metanet.graph import from_graph, to_graph
from metanet.nets import build


def test_a_skip_mlp_prints_unlike_the_plain_one_of_the_same_widths():
    skip, plain = build("mlp:64-32-32-10:tanh:skip"), build("mlp:64-32-32-10:tanh")
    x = torch.randn(2, 64)
    plain.load_state_dict(skip.state_dict())
    assert not torch.equal(skip(x), plain(x))  # the same layers and weights, another function
    assert "arch=mlp:64-32-32-10:tanh:skip" in repr(skip)
    assert repr(skip) != repr(plain)


def test_a_cnn_prints_its_architecture_and_pooling():
    text = repr(build("cnn:1-8-4-10:relu:k3:s2"))
    assert "arch=cnn:1-8-4-10:relu:k3:s2" in text
    assert "global average pooling before layers.2" in text
    assert text.startswith("CNN(") and "(layers): ModuleList(" in text  # torch's own listing stays


def test_loaded_and_decoded_networks_print_their_architecture(tmp_path):
    net = build("mlp:64-16-16-10:relu:skip")
    path = metanet.save(net, tmp_path / "n.safetensors")
    for m in (metanet.load(path), from_graph(to_graph(net))):
        assert "arch=mlp:64-16-16-10:relu:skip" in repr(m) and repr(m) == repr(net)
