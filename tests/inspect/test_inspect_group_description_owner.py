"""INDEX.md's group line names whose input-weight description it repeats: a group's first (strongest) neuron without
one borrowed another member's, said of the whole group ("neurons 0, 1: dead ...; looks for dark pixels at the top
left" of a neuron 0 whose weights are all zero)."""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.inspect import inspect
from metanet.nets import build


def _task():
    """40 random 8x8 images in [0, 1], 2 classes."""
    g = torch.Generator().manual_seed(0)
    return tasks.from_examples(torch.rand(40, 1, 8, 8, generator=g), torch.arange(40) % 2, name="images")


def _net():
    """``mlp:64-3-2`` on 8x8 images in [0, 1]: neuron 0 reads nothing (dead, no description), neuron 1 weighs only
    the top-left pixel negatively (dead: never above its bias of -1), neuron 2 copies a pixel near the centre."""
    m = build("mlp:64-3-2:relu", seed=0)
    with torch.no_grad():
        m.layers[0].weight.zero_()
        m.layers[0].bias.copy_(torch.tensor([-1.0, -1.0, 0.0]))
        m.layers[0].weight[1, 0] = -1.0
        m.layers[0].weight[2, 3 * 8 + 3] = 1.0
    return m.eval()


def test_a_borrowed_description_names_the_neuron_it_belongs_to():
    db = inspect(_net(), _task(), reader=None)
    assert db[(1, 0)]["description"] == "" and db[(1, 1)]["description"] == "looks for dark pixels at the top left"
    (dead,) = [g for g in db.groups(1) if g["kind"] == "dead"]
    assert dead["neurons"] == [0, 1] and dead["rows"][0]["idx"] == 0  # the first row has no description
    line = db.group_line(1, dead)
    assert line.endswith("; neuron 1 looks for dark pixels at the top left"), line
