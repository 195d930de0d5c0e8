"""The outlier score in layers where many ReLU neurons are dead: a dead neuron's activation tail of 0 is not the
layer's typical value, so live neurons are scored among the live ones."""

from __future__ import annotations

import torch
from torch import nn

from metanet import tasks
from metanet.inspect import inspect
from metanet.inspect.analyze import robust_z


def _half_dead_mlp(dead: int, seed: int = 0) -> nn.Sequential:
    """A digits MLP 64-64-10 whose first ``dead`` hidden neurons are dead (no input weights, bias -1: always 0) and
    the others alive (pixels in [0, 1], weights >= 0, bias 0)."""
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        m[1].weight.abs_()
        m[1].bias.zero_()
        m[1].weight[:dead] = 0.0
        m[1].bias[:dead] = -1.0
    return m


def _stats(rows: list[dict]) -> list[torch.Tensor]:
    """The three statistics the outlier score reads (activation tail, in norm, out norm), from the stored rows."""
    tail = [(r["act_max"] - r["act_mean"]) / (r["act_std"] + 1e-8) for r in rows]
    return [torch.tensor(s, dtype=torch.float64) for s in
            (tail, [r["in_norm"] for r in rows], [r["out_norm"] for r in rows])]


def test_live_neurons_of_a_mostly_dead_layer_are_no_outliers():
    task = tasks.get("digits")
    db = inspect(_half_dead_mlp(51), task, reader=None)
    rows = [r for r in db if r["layer"] == 1]
    assert [r["dead"] for r in rows] == [1] * 51 + [0] * 13  # the premise: 51 of 64 dead, as a reviewer trained
    # the tails' median was a dead neuron's 0 (MAD 0): 9 of the 13 live neurons scored z >= 4
    assert db.outliers() == []
    live = rows[51:]
    assert [r["outlier"] for r in live] == torch.stack([robust_z(s[51:]) for s in _stats(rows)]).max(0).values.tolist()
    # a dead neuron keeps its score within the whole layer (its tail of 0 is the median there: 0)
    assert [r["outlier"] for r in rows[:51]] == torch.stack([robust_z(s) for s in _stats(rows)]).max(0).values[
        :51].tolist()


def test_a_rogue_live_neuron_of_a_mostly_dead_layer_is_still_an_outlier():
    m = _half_dead_mlp(51)
    with torch.no_grad():
        m[3].weight[:, 60] *= 100  # its outgoing weights 100 times the other live neurons'
    db = inspect(m, tasks.get("digits"), reader=None)
    assert db.outliers() == [(1, 60)]


def test_a_layer_without_dead_neurons_is_scored_as_a_whole():
    db = inspect(_half_dead_mlp(0), tasks.get("digits"), reader=None)
    rows = list(db)
    assert sum(r["dead"] for r in rows) == 0
    assert [r["outlier"] for r in rows] == torch.stack([robust_z(s) for s in _stats(rows)]).max(0).values.tolist()
