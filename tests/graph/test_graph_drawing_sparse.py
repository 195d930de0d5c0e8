"""`plot` of a sparse (pruned) network: an exact-zero weight is no connection, so it is not drawn (it was a faint
blue "w > 0" line, and a 90 %-pruned network looked dense); the title says how many were left out."""

from __future__ import annotations

import matplotlib
import torch

from metanet.graph import plot
from metanet.nets import build


def _lines(fig) -> list:
    return [c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.LineCollection)]


def _pruned(arch: str, keep_every: int):
    net = build(arch, seed=0)
    with torch.no_grad():
        for layer in net.layers:
            flat = layer.weight.view(-1)
            keep = torch.zeros_like(flat, dtype=torch.bool)
            keep[::keep_every] = True
            cut = (~keep).nonzero().flatten()
            flat[cut] = 0.0
            flat[cut[::2]] = -0.0  # both signs of zero are zero
    return net


def test_zero_weights_of_a_pruned_mlp_are_not_drawn_and_the_title_counts_them() -> None:
    net = _pruned("mlp:8-6-3:relu", keep_every=5)
    nonzero = [int((layer.weight != 0).sum()) for layer in net.layers]
    zeros = sum(layer.weight.numel() for layer in net.layers) - sum(nonzero)
    fig = plot(net)
    lines = _lines(fig)
    assert [len(c.get_segments()) for c in lines] == nonzero
    assert f"{zeros} zero weight edges not drawn" in fig.axes[0].get_title()


def test_a_dense_network_is_drawn_whole_with_the_title_as_before() -> None:
    net = build("mlp:8-6-3:relu", seed=0)
    fig = plot(net)
    assert [len(c.get_segments()) for c in _lines(fig)] == [48, 18]
    assert "\n" not in fig.axes[0].get_title()


def test_thinning_a_pruned_network_counts_only_its_non_zero_weights() -> None:
    net = _pruned("mlp:64-32-10:relu", keep_every=4)  # 512 + 80 non-zero weights
    fig = plot(net, max_edges=100)
    title = fig.axes[0].get_title()
    shown = sum(len(c.get_segments()) for c in _lines(fig))
    assert f"showing the {shown} strongest of 592 non-zero weight edges" in title
    assert "1776 zero weight edges not drawn" in title
    assert 90 <= shown <= 100


def test_an_all_zero_layer_and_a_zero_conv_kernel_draw_nothing_for_them() -> None:
    net = build("cnn:1-2-3:relu:k3", seed=0)
    with torch.no_grad():
        net.layers[0].weight[1] = 0.0  # channel 1's only kernel
        net.layers[1].weight.zero_()
    fig = plot(net)
    assert [len(c.get_segments()) for c in _lines(fig)] == [1, 0]
    assert "7 zero weight edges not drawn" in fig.axes[0].get_title()
