"""`plot`: the network drawn as layers of neurons, returned as a matplotlib Figure."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from metanet.graph import plot, to_graph
from metanet.nets import build


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
