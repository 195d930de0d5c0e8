"""A residual MLP's neuron is read by several layers: a NaN in one reader's column and an inf in another's are both
its outgoing weights, and its row names both kinds (the last reader's kind alone hid the NaN)."""

from __future__ import annotations

import math

import torch
from inspect_helpers import planted_task

from metanet.inspect import inspect
from metanet.nets import build


def test_nan_and_inf_in_two_readers_columns_are_both_named():
    m = build("mlp:8-9-9-4:relu:skip", seed=0).eval()  # hidden layer 1 is read by layers.1 and (skip) layers.2
    with torch.no_grad():
        m.layers[1].weight[0, 3] = math.nan
        m.layers[2].weight[0, 3] = math.inf
    db = inspect(m, planted_task(), reader=None)
    assert db.meta["layer_info"]["1"]["read_by"] == ["layers.1.weight", "layers.2.weight"]
    assert db[(1, 3)]["nonfinite"] == "NaN and inf outgoing weights"
    assert db[(1, 4)]["nonfinite"] is None
