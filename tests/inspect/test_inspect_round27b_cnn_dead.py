"""A CNN channel is "dead" only when its whole map is one constant on the data (round 27b).

The flag used to test the spatial mean only: a channel whose map varies across space but whose mean is the
same on every example (a zero-sum edge kernel under an identity or tanh activation) was called dead and, with
mean 0, "safe to remove" — false whenever the next layer reads its map.
"""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.inspect import COLUMNS, inspect
from metanet.inspect.netview import NetView
from metanet.nets import build


def _border_task():
    """8x8 images with a zero border and pixels in quarters (conv sums are exact in float32)."""
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(200, 1, 8, 8)
    x[:, :, 1:7, 1:7] = torch.randint(0, 4, (200, 1, 6, 6), generator=g).float() / 4
    y = torch.randint(0, 3, (200,), generator=g)
    return tasks.from_examples(x, y, name="border")


def _edge_cnn(act: str = "identity"):
    """Layer 1: channel 0 = x[j-1] - x[j+1] (varies, spatial mean 0 on zero-border rows), channel 1 = x,
    channel 2 = a constant 0 (zero kernel and bias), channel 3 = the constant 0.25 (zero kernel, bias 0.25)."""
    torch.manual_seed(0)
    m = build(f"cnn:1-4-3-3:{act}:k3:s1")
    with torch.no_grad():
        w, b = m.layers[0].weight, m.layers[0].bias
        w.zero_()
        b.zero_()
        w[0, 0, 1, 0], w[0, 0, 1, 2] = 1.0, -1.0
        w[1, 0, 1, 1] = 1.0
        b[3] = 0.25
    return m


def _maps(model, x):
    """Each hidden layer's channel maps, recorded with forward hooks (independent of NetView)."""
    out: dict[int, torch.Tensor] = {}
    act = model.act
    hooks = [conv.register_forward_hook(lambda mod, i, o, k=k: out.__setitem__(k + 1, act(o)))
             for k, conv in enumerate(model.layers[:-1])]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return out


def test_a_channel_whose_map_varies_is_not_dead_even_when_its_mean_is_constant():
    task, m = _border_task(), _edge_cnn()
    x, _ = task.split("test")
    maps = _maps(m, x)
    edge = maps[1][:, 0]
    assert edge.mean(dim=(1, 2)).abs().max() == 0 and edge.abs().max() > 0  # the premise: mean 0, map not
    db = inspect(m, task, reader=None)
    for layer, z in maps.items():  # dead exactly when the whole map is one constant on the data
        for j in range(z.shape[1]):
            constant = bool((z[:, j] == z[:, j].flatten()[0]).all())
            assert db[(layer, j)]["dead"] == int(constant), (layer, j)
    assert [db[(1, j)]["dead"] for j in range(4)] == [0, 0, 1, 1]
    index = db.index_md()
    assert "layer 1, neuron 0**: dead" not in index
    # the two dead channels form one group: the line says which one is safe to remove and which one is not
    assert ("layer 1, neurons 2, 3**: dead on the task data (constant output); neuron 2 outputs 0 (safe to remove); "
            "neuron 3 outputs a nonzero constant (up to 0.25)") in index
    # removing the edge channel is not exact: the next layer reads its map
    v = NetView(m)
    mask = torch.ones(1, 4)
    mask[0, 0] = 0
    assert not torch.equal(v.forward(x, {1: mask})[0][0], m(x))


def test_the_same_holds_under_tanh():
    # mirror-symmetric images: tanh of the (antisymmetric) edge map sums to 0 on every example
    x, y = _border_task().split("train")
    x = torch.cat([x[..., :4], x[..., :4].flip(-1)], -1)
    task, m = tasks.from_examples(x, y, name="mirror"), _edge_cnn("tanh")
    edge = _maps(m, task.split("test")[0])[1][:, 0]
    assert edge.mean(dim=(1, 2)).abs().max() < 1e-7 and edge.abs().max() > 0.1  # the premise
    db = inspect(m, task, reader=None)
    assert [db[(1, j)]["dead"] for j in range(4)] == [0, 0, 1, 1]


def test_the_columns_say_what_the_channel_figures_are():
    # act_std / act_max / frac_active of a channel are of its spatial mean, and dead means constant everywhere
    assert "every position" in COLUMNS["dead"][1]
    for col in ("act_std", "act_max", "frac_active"):
        assert "spatial mean" in COLUMNS[col][1], col


def test_writes_to_is_given_for_every_layer_the_output_layer_reads_and_the_column_says_so():
    # a residual MLP: the head reads the stream every hidden layer writes to, so each gets its logit
    m = build("mlp:64-16-16-16-10:relu:skip", seed=0)
    db = inspect(m, "digits", reader=None, max_examples=50)
    head = m.layers[-1].weight.detach()
    for layer in (1, 2, 3):
        assert [db[(layer, j)]["writes_to"] for j in range(16)] == head.argmax(0).tolist()
    assert "last hidden layer only" not in COLUMNS["writes_to"][1] and "residual" in COLUMNS["writes_to"][1]
    # a plain MLP: only the last hidden layer
    db = inspect(build("mlp:64-16-16-10:relu", seed=0), "digits", reader=None, max_examples=50)
    assert db[(1, 0)]["writes_to"] is None and db[(2, 0)]["writes_to"] is not None
