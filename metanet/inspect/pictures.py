"""Pictures of what neurons do: first-layer input weights as images, top-activating examples per neuron, and
the ablation matrix as a heat map. Saved as PNG and optionally logged to TensorBoard.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot, no global backend switch), so this
module is safe to use from a library or a server.
"""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from metanet.errors import ArchError, TaskError, check_whole
from metanet.inspect.db import NeuronDB
from metanet.inspect.netview import view
from metanet.inspect.output import is_picture, staged
from metanet.io import atomic_write, tensorboard_writer
from metanet.tasks import resolve
from metanet.tasks.resolve import task_input_shape

__all__ = ["weight_grid", "top_examples", "ablation_heatmap", "figure_array", "save_pictures", "is_image_task"]

#: at most this many neurons per picture (the most important ones by ablation effect)
MAX_NEURONS = 64


def is_image_task(input_shape) -> bool:
    return len(input_shape) == 3 and input_shape[1] > 1 and input_shape[2] > 1


def _important(db: NeuronDB, layer: int, limit: int) -> list[int]:
    rows = db.layer(layer)
    if len(rows) <= limit:
        return [r["idx"] for r in rows]
    rows = sorted(rows, key=lambda r: (-r["support_strength"], -abs(r["ablation_loss"])))[:limit]
    return sorted(r["idx"] for r in rows)


def _db_layer(db: NeuronDB, layer: int, what: str) -> int:
    """``layer`` when the database measured it; ArchError naming the layers it holds otherwise."""
    if layer not in db.layers or isinstance(layer, bool):
        raise ArchError(f"{what}: layer {layer!r} is not a hidden layer of this database; its layers: {db.layers}")
    return layer


def _check_db(v, db: NeuronDB, what: str) -> None:
    """ArchError unless ``db`` measured this network's hidden layers (same layers, same widths): a database of
    another network labelled the wrong neurons, or failed with a raw IndexError."""
    mine = {L.index: L.width for L in v.layers}
    theirs = {l: len(db.layer(l)) for l in db.layers}
    if any(mine.get(l) != n for l, n in theirs.items()):
        raise ArchError(f"{what}: the neuron database was measured on another network ({db.meta.get('network')}: "
                        f"neurons per layer {theirs}), not this one ({v.describe()}: {mine}); inspect this network "
                        f"first (metanet.inspect(model, task))")


def _grid(n: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _image(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) -> something imshow takes: grey (H, W) for one channel, RGB for three, the channel mean else."""
    x = x.detach().float()
    if x.shape[0] == 3:
        return x.permute(1, 2, 0).clamp(0, 1).numpy()
    return x.mean(0).numpy()


def _mosaic(tiles: list[np.ndarray], cols: int, pad: int = 1) -> np.ndarray:
    """Tiles of one shape (H, W) or (H, W, 3) laid out row-major on a NaN background."""
    th, tw = tiles[0].shape[:2]
    rows = math.ceil(len(tiles) / cols)
    extra = tiles[0].shape[2:]
    out = np.full((rows * (th + pad) + pad, cols * (tw + pad) + pad, *extra), np.nan, dtype=np.float32)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        out[pad + r * (th + pad) : pad + r * (th + pad) + th, pad + c * (tw + pad) : pad + c * (tw + pad) + tw] = t
    return out


def _label(db: NeuronDB | None, layer: int, j: int) -> str:
    if db is None:
        return str(j)
    row = db[(layer, j)]
    if row["dead"]:
        return f"{j} dead"
    sup = row["supports"]
    return f"{j}" + (f"\u2192{','.join(map(str, sup[:3]))}" if sup else "")


def _fit_title(fig: Figure) -> Figure:
    """Widen a narrow figure (few tiles, one example column, few classes) until its title is not cut off."""
    ax = fig.axes[0]
    canvas = FigureCanvasAgg(fig)
    for _ in range(3):  # the title is centred on the axes, which tight_layout moves: re-measure
        box = ax.title.get_window_extent(canvas.get_renderer())
        w, h = fig.get_size_inches()
        over = max(0.0, -box.x0, box.x1 - w * fig.dpi)
        if over <= 0:
            break
        fig.set_size_inches(w + 2 * over / fig.dpi + 0.2, h)
        fig.tight_layout()
    return fig


def _fit_ylabel(fig: Figure) -> Figure:
    """Heighten a short figure (one or two neuron rows) until its y label is not cut off at the top and bottom."""
    ax = fig.axes[0]
    canvas = FigureCanvasAgg(fig)
    for _ in range(3):
        box = ax.yaxis.label.get_window_extent(canvas.get_renderer())
        w, h = fig.get_size_inches()
        over = max(0.0, -box.y0, box.y1 - h * fig.dpi)
        if over <= 0:
            break
        fig.set_size_inches(w, h + 2 * over / fig.dpi + 0.2)
        fig.tight_layout()
    return fig


def weight_grid(model: nn.Module, input_shape, db: NeuronDB | None = None, limit: int = MAX_NEURONS) -> Figure:
    """Each first-layer neuron's input weights as an image (MLP on an image task; for a CNN, its kernels),
    red positive / blue negative, each scaled by its own largest weight. Tiles are labelled with the neuron
    index and the classes it supports (``3\u21928``)."""
    v = view(model)
    limit = check_whole("weight_grid limit", limit, 1)
    if not is_image_task(tuple(input_shape)):
        raise TaskError(f"weight_grid needs an image task: input_shape (C, H, W) with H, W > 1, got "
                        f"{tuple(input_shape)}")
    if not v.layers:
        raise ArchError(f"weight_grid needs a network with a hidden layer; {v.describe()} has none")
    L = v.layers[0]
    w = v.params()[L.weight].detach().float()
    if not L.conv and w.shape[1] != math.prod(input_shape):
        raise ArchError(f"layer {L.index} reads {w.shape[1]} inputs, not the {math.prod(input_shape)} pixels of "
                        f"{tuple(input_shape)} images directly; weight_grid needs a first layer that reads the pixels")
    if db is not None:
        _check_db(v, db, "weight_grid")
    full = w if L.conv else w.reshape(w.shape[0], *input_shape)  # (H, channels, h, w)
    imgs = full.mean(1)  # (H, h, w): channel mean
    idx = _important(db, L.index, limit) if db is not None else list(range(min(limit, L.width)))
    tiles = [(imgs[j] / (imgs[j].abs().max() or 1.0)).numpy() for j in idx]
    rows, cols = _grid(len(idx))
    th, tw = tiles[0].shape
    fig = Figure(figsize=(min(16, 0.25 + 1.0 * cols), min(16, 0.6 + 1.05 * rows)), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(_mosaic(tiles, cols), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    for k, j in enumerate(idx):
        r, c = divmod(k, cols)
        ax.text(1 + c * (tw + 1), 1 + r * (th + 1), _label(db, L.index, j), fontsize=6, va="top",
                color="black", bbox={"facecolor": "white", "alpha": 0.6, "pad": 0.5, "linewidth": 0})
    ax.set_axis_off()
    # several input channels are drawn as their mean: the title says so (it read as the weights themselves)
    mean = f", mean over {full.shape[1]} input channels" if full.shape[1] > 1 else ""
    ax.set_title(f"layer {L.index}: input weights per {L.kind} (red +, blue -{mean})", fontsize=9)
    fig.tight_layout()
    return _fit_title(fig)


def top_examples(db: NeuronDB, x: torch.Tensor, layer: int, k: int = 8, limit: int = 32) -> Figure:
    """For the ``limit`` most important neurons of ``layer`` (one row each): their ``k`` top-activating
    examples from the split the database was measured on (``x``); a dead neuron's row is left empty."""
    _db_layer(db, layer, "top_examples")
    k, limit = check_whole("top_examples k", k, 1), check_whole("top_examples limit", limit, 1)
    if len(x) < db.meta.get("n", 0):
        raise TaskError(f"top_examples: x holds {len(x)} examples, but the database was measured on "
                        f"{db.meta['n']} ({db.meta.get('task')!r}/{db.meta.get('split')}); give that split's inputs")
    idx = _important(db, layer, limit)
    k = min([k] + [len(db[(layer, j)]["top_examples"]) for j in idx])
    tiles = [_image(x[e]) for j in idx for e in db[(layer, j)]["top_examples"][:k]]
    for r, j in enumerate(idx):  # a dead neuron is as active on every example: its "top" ones are arbitrary
        if db[(layer, j)]["dead"]:
            tiles[r * k : (r + 1) * k] = [np.full_like(t, np.nan) for t in tiles[r * k : (r + 1) * k]]
    th = tiles[0].shape[0]
    fig = Figure(figsize=(1.2 + 0.7 * k, 0.6 + 0.7 * len(idx)), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(_mosaic(tiles, k), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([1 + r * (th + 1) + th / 2 for r in range(len(idx))])
    ax.set_yticklabels([_label(db, layer, j) for j in idx], fontsize=7)
    ax.set_xticks([])
    ax.set_ylabel(f"layer {layer} neuron \u2192 classes it supports", fontsize=8)
    ax.set_title(f"layer {layer}: top-activating examples per neuron", fontsize=9)
    fig.tight_layout()
    return _fit_title(_fit_ylabel(fig))


def ablation_heatmap(db: NeuronDB, layer: int) -> Figure:
    """The ablation matrix of ``layer``: change of each class's accuracy (points) when each neuron is zeroed."""
    _db_layer(db, layer, "ablation_heatmap")
    mat = db.ablation_matrix(layer).numpy() * 100
    h, c = mat.shape
    fig = Figure(figsize=(min(12, 1.5 + 0.45 * c), min(30, 1.2 + 0.18 * h)), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    m = float(np.nanmax(np.abs(mat))) if mat.size else 1.0
    im = ax.imshow(mat, cmap="RdBu", vmin=-(m or 1), vmax=(m or 1), aspect="auto", interpolation="nearest")
    ax.set_xlabel("class")
    ax.set_ylabel(f"layer {layer} neuron")
    names = db.class_names
    ax.set_xticks(range(c))
    ax.set_xticklabels(names[:c] if len(names) >= c else range(c), fontsize=7, rotation=90 if c > 12 else 0)
    if h <= 64:
        ax.set_yticks(range(h))
        ax.tick_params(axis="y", labelsize=6)
    ax.set_title(f"accuracy change (points) when one neuron is zeroed — layer {layer}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    return _fit_title(fig)


def figure_array(fig: Figure) -> np.ndarray:
    """The rendered figure as an ``(H, W, 3)`` uint8 array (for TensorBoard's ``add_image``)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _save_png(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def save_pictures(
    model: nn.Module,
    task,
    db: NeuronDB,
    out_dir: str | os.PathLike,
    tensorboard: str | os.PathLike | None = None,
    step: int = 0,
) -> list[Path]:
    """Draw every picture that fits the network and task, save them as PNG under ``out_dir`` and, with
    ``tensorboard``, log them there (``SummaryWriter.add_image``). Returns the PNG paths.

    Weight grids and top-activating examples need an image task; the ablation heat maps are drawn always.
    The pictures replace those of an earlier call on the same directory: all are drawn and written to a staging
    directory first, then moved into ``out_dir``, and pictures there that this call did not draw (e.g. of a layer
    the network does not have) are removed; other files are left alone (see :mod:`metanet.inspect.output`).
    """
    task = resolve(task)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is not a directory; give a directory for the pictures", str(out))
    figs: dict[str, Figure] = {}
    shape = task_input_shape(task)  # a task-like object (split, num_classes) may have no input_shape
    image = is_image_task(shape)
    if image and db.layers:
        _check_db(view(model), db, "save_pictures")  # not swallowed with the "does not read pixels" case below
        try:
            figs[f"weights_layer{db.layers[0]}"] = weight_grid(model, shape, db)
        except ValueError:  # a first layer that does not read pixels: no weight images
            pass
        x, _ = task.split(db.meta.get("split", "test"))
        for layer in db.layers:
            figs[f"top_examples_layer{layer}"] = top_examples(db, x, layer)
    for layer in db.layers:
        figs[f"ablation_layer{layer}"] = ablation_heatmap(db, layer)
    with staged(out, owns=is_picture) as stage:
        for name, fig in figs.items():
            _save_png(fig, stage / f"{name}.png")
    paths = [out / f"{name}.png" for name in figs]
    if tensorboard is not None:
        with tensorboard_writer(tensorboard) as writer:  # a full disk under it names the folder
            for name, fig in figs.items():
                writer.add_image(f"inspect/{name}", figure_array(fig), step, dataformats="HWC")
            writer.add_text("inspect/INDEX", db.index_md(), step)
    return paths
