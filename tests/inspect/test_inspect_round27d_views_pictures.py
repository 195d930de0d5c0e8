"""Round 27d: the neuron outputs NetView records are a plain eval-mode forward pass (a training-mode Dropout made
them random draws), and the pictures show what their titles say: the plotted arrays are compared with values
computed here independently (weights, the database's ablation figures, the split's examples)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from metanet import tasks
from metanet.errors import ArchError
from metanet.inspect import inspect
from metanet.inspect.measure import activations
from metanet.inspect.netview import NetView
from metanet.inspect.pictures import ablation_heatmap, save_pictures, top_examples, weight_grid
from metanet.nets import build

X = torch.rand(24, 1, 8, 8, generator=torch.Generator().manual_seed(0))


# ------------------------------------------------------------------------------ NetView = a manual forward
def _manual_family(model) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Neuron outputs per hidden layer and logits, written out by hand from the family's definition."""
    a, out = model.arch, {}
    if a.family == "mlp":
        h, skips = X.flatten(1), set(a.skip_layers())
        for i, lin in enumerate(model.layers[:-1]):
            z = model.act(lin(h))
            out[i + 1] = z
            h = h + z if i in skips else z
        return out, model.layers[-1](h)
    h = X
    for i, conv in enumerate(model.layers[:-1]):
        h = model.act(conv(h))
        out[i + 1] = h
    return out, model.layers[-1](h.mean((2, 3)))


def _manual_sequential(seq: nn.Sequential, taps: list[int]) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Outputs of modules ``taps`` (the activations ending each hidden layer) in eval mode, by forward hooks."""
    rec: dict[int, torch.Tensor] = {}
    modes = [m.training for m in seq.modules()]
    hooks = [seq[p].register_forward_hook(lambda m, i, o, k=k: rec.__setitem__(k + 1, o)) for k, p in enumerate(taps)]
    try:
        logits = seq.eval()(X)
    finally:
        for h in hooks:
            h.remove()
        for m, t in zip(seq.modules(), modes):
            m.training = t
    return rec, logits


def _nets():
    torch.manual_seed(0)
    mlp_seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 9), nn.Tanh(),
                            nn.Dropout(0.3), nn.Linear(9, 10))
    cnn_seq = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.5), nn.Conv2d(4, 5, 3, padding=1),
                            nn.ReLU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(5 * 3 * 3, 10))
    return {"mlp": (build("mlp:64-12-10:tanh", seed=0), None),
            "skip mlp": (build("mlp:64-16-16-16-10:relu:skip", seed=0), None),
            "cnn": (build("cnn:1-4-6-10:relu:k3:s2", seed=0), None),
            "sequential mlp + dropout": (mlp_seq, [2, 5]),
            "sequential cnn + dropout": (cnn_seq, [1, 5])}


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(_nets()))
def test_recorded_outputs_are_a_manual_eval_forward(name, training):
    model, taps = _nets()[name]
    model.train(training)
    if training and taps:
        model[-2].train(False)  # a mix of modes: each module's own mode must come back
    before = [m.training for m in model.modules()]
    ref, logits_ref = _manual_family(model) if taps is None else _manual_sequential(model, taps)
    v = NetView(model)
    for _ in range(2):  # a training-mode Dropout gave another draw on every call
        logits, rec = v.forward(X, record=True)
        assert sorted(rec) == sorted(ref)
        for k in ref:
            assert torch.equal(rec[k], ref[k]), (name, k)
        assert torch.equal(logits, logits_ref)
        # the masked path (all-ones masks, two variants) computes the same logits
        masked, _ = v.forward(X, {L.index: torch.ones(2, L.width) for L in v.layers})
        assert torch.allclose(masked[0], logits_ref, atol=1e-6) and torch.equal(masked[0], masked[1])
    acts = activations(v, X)
    for k in ref:
        want = ref[k] if ref[k].dim() == 2 else ref[k].mean((2, 3))
        assert torch.allclose(acts[k], want, atol=1e-6)
    assert [m.training for m in model.modules()] == before  # the caller's modes are put back


def test_inspect_measures_a_training_mode_network_in_eval_mode_and_gives_it_back():
    model, taps = _nets()["sequential mlp + dropout"]
    x, y = tasks.get("digits").split("test")
    model.train()
    db = inspect(model, "digits", reader=None, max_examples=60)
    assert all(m.training for m in model.modules())
    model.eval()
    want = model[2](model[1](model[0](x[:60]))).detach().double()  # layer 1's outputs, no dropout
    assert np.allclose(db.column("act_mean", 1), want.mean(0).numpy())


# ------------------------------------------------------------------------------ pictures show what they say
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
