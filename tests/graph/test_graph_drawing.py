"""`plot`: the network drawn as layers of neurons, returned as a matplotlib Figure; bad ``max_edges`` / ``figsize``
refused (also beyond float range), NumPy ones taken; huge finite kernels drawn without NaN widths."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from graph_helpers import MLP, _mlp
from matplotlib.figure import Figure

from metanet.errors import GraphError
from metanet.graph import plot, to_graph
from metanet.nets import Arch, build


@pytest.mark.parametrize(
    "net",
    [
        build("mlp:784-64-10:relu", seed=0),
        build("mlp:6-4-4-3:tanh:skip", seed=0),
        build("cnn:1-4-4-3:relu:k3:nobias", seed=0),
    ],
)
def test_plot_returns_a_matplotlib_figure(net, tmp_path):
    fig = plot(to_graph(net), max_edges=2000)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_xticks()) == len(to_graph(net).layout.sizes)
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000
    assert matplotlib.get_backend().lower() != "tkagg"  # no GUI backend was switched on


def test_plot_thins_out_large_layers_and_says_so():
    fig = plot(build("mlp:784-64-10:relu", seed=0), max_edges=500)
    assert "showing the" in fig.axes[0].get_title()


def test_plot_accepts_a_batch_of_one_graph_like_from_graph():
    """A DataLoader with batch_size=1 gives a Batch of one graph: from_graph takes it, and so must plot."""
    from torch_geometric.data import Batch

    from metanet.errors import GraphError

    g = to_graph(build("mlp:4-3-2:relu", seed=0))
    fig = plot(Batch.from_data_list([g]))
    assert fig.axes[0].get_title() == plot(g).axes[0].get_title()
    with pytest.raises(GraphError, match=r"plot\(\) got a batch of 2 graphs.*split\(batch\)"):
        plot(Batch.from_data_list([g, g]))


@pytest.mark.parametrize("max_edges", [0, -3, 2.5, True])
def test_plot_rejects_bad_max_edges(max_edges):
    with pytest.raises(GraphError, match="max_edges"):
        plot(_mlp(), max_edges=max_edges)


@pytest.mark.parametrize("figsize", [(0, 0), "big", (float("nan"), 2.0), (3.0,)])
def test_plot_rejects_bad_figsize(figsize):
    with pytest.raises(GraphError, match="figsize"):
        plot(_mlp(), figsize=figsize)


def test_plot_accepts_numpy_figsize_and_max_edges():
    fig = plot(build(Arch.parse("mlp:8-5-3:relu"), seed=0), figsize=np.array([3.0, 2.0]), max_edges=np.int64(10))
    assert tuple(fig.get_size_inches()) == (3.0, 2.0)
    assert "showing" in fig.axes[0].get_title()


def test_huge_finite_kernels_are_drawn_not_nan():
    m = build("cnn:1-2-3:relu:k3", seed=0)
    with torch.no_grad():
        m.layers[0].weight.fill_(3e38)  # finite float32; its square is not
    fig = plot(m)
    lines = [c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.LineCollection)]
    for c in lines:
        assert np.isfinite(c.get_linewidths()).all() and np.isfinite(c.get_edgecolor()).all()
    # the strongest edge of the first layer is drawn at full width
    assert max(lines[0].get_linewidths()) == pytest.approx(2.5)


@pytest.mark.parametrize("figsize", [(10**400, 3), (4, -(10**400))])
def test_plot_refuses_a_figsize_beyond_float_range(figsize):
    # math.isfinite(10**400) raised a raw OverflowError instead of the figsize error
    with pytest.raises(GraphError, match=r"figsize must be \(width, height\) in inches"):
        plot(to_graph(build(MLP, seed=0)), figsize=figsize)


def test_plot_labels_a_single_neuron_layer_in_the_singular() -> None:
    """A grey-image CNN's input layer is one neuron (its channel): every such picture said "1 neurons"."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from metanet.graph import plot

    fig = plot(build("cnn:1-4-10:relu:k3:s1"))
    try:
        labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    finally:
        plt.close(fig)
    assert labels[0] == "0: input\n1 neuron" and "4 neurons" in labels[1]
