"""Pictures of the neurons (metanet/inspect/pictures.py): readable for small networks, tasks and top_k too."""

from __future__ import annotations

import pytest
from inspect_helpers import planted_mlp, planted_task

from metanet import tasks
from metanet.inspect import inspect
from metanet.inspect.pictures import ablation_heatmap, top_examples, weight_grid
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
