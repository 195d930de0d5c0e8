"""Pictures of the neurons (metanet/inspect/pictures.py): readable for small networks, tasks and top_k too, and
they show what their titles say: the plotted arrays are compared with values computed here independently
(weights, the database's ablation figures, the split's examples)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from inspect_helpers import planted_mlp, planted_task
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch import nn

from metanet import tasks
from metanet.errors import ArchError
from metanet.inspect import inspect
from metanet.inspect.pictures import ablation_heatmap, save_pictures, top_examples, weight_grid
from metanet.nets import build


def _title_fits(fig) -> bool:
    """The axes title lies inside the figure (not cut off at its edges) once drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.axes[0].title.get_window_extent(canvas.get_renderer())
    width = fig.get_size_inches()[0] * fig.dpi
    return box.x0 >= 0 and box.x1 <= width


@pytest.fixture(scope="module")
def small_cnn():
    task = tasks.get("digits")
    model = build("cnn:1-2-3-10:relu:k3:s2", seed=0)
    return model, task, inspect(model, task, reader=None, max_examples=40, top_k=1)


def test_narrow_pictures_keep_their_titles_whole(small_cnn):
    model, task, db = small_cnn
    x, _ = task.split("test")
    figs = {"weights": weight_grid(model, task.input_shape, db),  # 2 kernels: a narrow grid
            "top_examples": top_examples(db, x, 1),  # top_k=1: one column of examples
            "ablation": ablation_heatmap(inspect(planted_mlp(), planted_task(), reader=None), 1)}  # 4 classes
    assert [name for name, fig in figs.items() if not _title_fits(fig)] == []


def test_dead_neurons_have_no_top_activating_examples():
    """A dead neuron's activation is the same on every example: the picture must not show arbitrary examples as
    its "top-activating" ones (they would be the split's first images, the same for every dead neuron)."""
    import numpy as np
    import torch

    task = tasks.get("digits")
    model = build("mlp:64-4-10:relu", seed=0)
    with torch.no_grad():
        model.layers[0].weight[:2] = -1.0  # neurons 0 and 1 never fire on inputs in [0, 1]
        model.layers[0].bias[:2] = -1.0
        model.layers[0].bias[2:] = 1.0  # the others always do
    db = inspect(model, task, reader=None, max_examples=60, top_k=2)
    assert [r["dead"] for r in db.layer(1)] == [1, 1, 0, 0]
    x, _ = task.split("test")
    img = top_examples(db, x, 1).axes[0].get_images()[0].get_array()
    img = np.ma.filled(img.astype(float), np.nan)
    rows = np.array_split(img[1:], 4)  # one row of tiles per neuron (plus padding)
    assert np.isnan(rows[0]).all() and np.isnan(rows[1]).all()  # dead: empty rows
    assert not np.isnan(rows[2]).all() and not np.isnan(rows[3]).all()


def test_picture_arguments_that_do_not_fit_are_metanet_errors(small_cnn):
    """Were ValueErrors (weight_grid), IndexErrors (top_examples of a layer the database lacks, k or limit 0, too few
    examples) and a ValueError unpacking an empty matrix (ablation_heatmap of an unknown layer)."""
    from metanet.errors import ArchError, ConfigError, TaskError

    model, task, db = small_cnn
    x, _ = task.split("test")
    with pytest.raises(TaskError, match=r"weight_grid needs an image task: input_shape \(C, H, W\) with H, W > 1, "
                                        r"got \(1, 40\)"):
        weight_grid(model, (1, 40))
    with pytest.raises(ArchError, match="weight_grid needs a network with a hidden layer; mlp:64-10:relu has none"):
        weight_grid(build("mlp:64-10:relu"), (1, 8, 8))
    with pytest.raises(ArchError, match=r"layer 1 reads 64 inputs, not the 16 pixels of \(1, 4, 4\) images directly"):
        weight_grid(build("mlp:64-4-10:relu"), (1, 4, 4))
    with pytest.raises(ConfigError, match="weight_grid limit must be a whole number >= 1, got 0"):
        weight_grid(model, task.input_shape, db, limit=0)
    for call, what in ((lambda: top_examples(db, x, 5), "top_examples"), (lambda: ablation_heatmap(db, 5), "ablation")):
        with pytest.raises(ArchError, match=rf"{what}\w*: layer 5 is not a hidden layer of this database; its "
                                            r"layers: \[1, 2\]"):
            call()
    for kw in ({"k": 0}, {"limit": 0}):
        with pytest.raises(ConfigError, match=rf"top_examples {next(iter(kw))} must be a whole number >= 1, got 0"):
            top_examples(db, x, 1, **kw)
    with pytest.raises(TaskError, match=r"x holds 3 examples, but the database was measured on 40 \('digits'/test\)"):
        top_examples(db, x[:3], 1)


def test_top_examples_label_fits_a_one_neuron_layer():
    # with one or two neuron rows the y label ("layer 1 neuron -> classes it supports") was cut off at both ends
    g = torch.Generator().manual_seed(0)
    task = tasks.from_examples(torch.rand(60, 1, 6, 10, generator=g), torch.arange(60) % 3, name="rect")
    model = nn.Sequential(nn.Flatten(), nn.Linear(60, 1), nn.ReLU(), nn.Linear(1, 3))
    db = inspect(model, task, reader=None)
    fig = top_examples(db, task.split("test")[0], 1)
    box = fig.axes[0].yaxis.label.get_window_extent(FigureCanvasAgg(fig).get_renderer())
    height = fig.get_size_inches()[1] * fig.dpi
    assert box.y0 >= 0 and box.y1 <= height


def _tiles(fig, th: int, tw: int, n: int, cols: int | None = None) -> list[np.ndarray]:
    arr = np.asarray(fig.axes[0].images[0].get_array())
    cols = cols or math.ceil(math.sqrt(n))
    out = []
    for k in range(n):
        r, c = divmod(k, cols)
        out.append(arr[1 + r * (th + 1): 1 + r * (th + 1) + th, 1 + c * (tw + 1): 1 + c * (tw + 1) + tw])
    return out


@pytest.fixture(scope="module")
def digits_db():
    from inspect_helpers import digits_mlp

    model = digits_mlp("mlp:64-16-10:relu", epochs=3)
    return model, inspect(model, "digits", reader=None, top_k=4)


def test_weight_images_are_the_first_layer_rows(digits_db):
    model, db = digits_db
    fig = weight_grid(model, (1, 8, 8), db)
    ax = fig.axes[0]
    assert ax.get_title().startswith("layer 1: input weights per unit")  # neuron layer 1 = weights layers.0
    assert ax.images[0].get_clim() == (-1.0, 1.0) and ax.images[0].get_cmap().name == "RdBu_r"
    idx = [int(t.get_text().split("\u2192")[0].split()[0]) for t in ax.texts]
    w = model.layers[0].weight.detach()
    for j, tile in zip(idx, _tiles(fig, 8, 8, len(idx))):
        assert np.allclose(tile, (w[j].reshape(8, 8) / w[j].abs().max()).numpy())


def test_kernels_and_channels_are_labelled_as_a_channel_mean():
    cnn = build("cnn:3-4-6-10:relu:k3:s2", seed=0)
    fig = weight_grid(cnn, (3, 8, 8))
    w = cnn.layers[0].weight.detach().mean(1)  # (4, 3, 3): what the tiles show
    for j, tile in enumerate(_tiles(fig, 3, 3, 4)):
        assert np.allclose(tile, (w[j] / w[j].abs().max()).numpy())
    assert "mean over 3 input channels" in fig.axes[0].get_title()  # it read as the weights themselves
    mlp = build("mlp:192-5-10:relu", seed=0)
    fig = weight_grid(mlp, (3, 8, 8))
    w = mlp.layers[0].weight.detach().reshape(5, 3, 8, 8).mean(1)
    assert all(np.allclose(t, (w[j] / w[j].abs().max()).numpy()) for j, t in enumerate(_tiles(fig, 8, 8, 5)))
    assert "mean over 3 input channels" in fig.axes[0].get_title()
    assert "mean" not in weight_grid(build("cnn:1-4-10:relu:k3:s2", seed=0), (1, 8, 8)).axes[0].get_title()


def test_heat_map_cells_are_the_database_ablation_figures(digits_db):
    _, db = digits_db
    fig = ablation_heatmap(db, 1)
    ax = fig.axes[0]
    mat = np.asarray(ax.images[0].get_array())
    want = np.array([[math.nan if v is None else v for v in db[(1, j)]["ablation_per_class"]]
                     for j in range(16)]) * 100
    assert mat.shape == (16, 10) and np.allclose(mat, want, equal_nan=True)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi and math.isclose(hi, np.nanmax(np.abs(want)), rel_tol=1e-6)  # symmetric around 0
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(j) for j in range(16)]
    assert ax.get_ylabel() == "layer 1 neuron" and "layer 1" in ax.get_title()


def test_top_examples_are_the_most_activating_inputs(digits_db):
    model, db = digits_db
    x, _ = tasks.get("digits").split("test")
    fig = top_examples(db, x, 1, k=4, limit=16)
    acts = torch.relu(model.layers[0](x.flatten(1))).detach()  # (N, 16), by hand
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    tiles = _tiles(fig, 8, 8, 4 * len(labels), cols=4)
    for r, label in enumerate(labels):
        j = int(label.split("\u2192")[0].split()[0])
        if db[(1, j)]["dead"]:
            continue
        ex = db[(1, j)]["top_examples"][:4]
        assert all(np.array_equal(tiles[4 * r + c], x[e, 0].numpy()) for c, e in enumerate(ex))
        assert torch.allclose(acts[ex, j], acts[:, j].sort(descending=True).values[:4])


def test_a_database_of_another_network_is_refused(digits_db, tmp_path):
    _, db = digits_db
    other = build("mlp:64-8-10:relu", seed=0)  # was a raw IndexError (index 8 out of bounds)
    with pytest.raises(ArchError, match="another network"):
        weight_grid(other, (1, 8, 8), db)
    with pytest.raises(ArchError, match="another network"):  # not swallowed as "no weight pictures"
        save_pictures(other, "digits", db, tmp_path / "pics")
    assert not (tmp_path / "pics").exists()
