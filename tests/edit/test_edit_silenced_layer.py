"""Never a whole layer scaled by 0, in several edits (``metanet/edit/neurons.py``): scaling by 0 zeroes a neuron's
outgoing weights (its incoming ones stay), so neurons scaled by 0 earlier count for the next scaling by 0 as removed
ones do; two scalings of half a layer each left its output independent of the input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit, tasks
from metanet.errors import ArchError
from metanet.nets import build

TASK = tasks.get("digits")


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10))


def test_scaling_the_rest_of_a_layer_by_0_after_its_first_half_is_refused():
    half = edit.scale(_mlp(), "1:0-2", 0.0, TASK)
    assert half.report.details == {"via": "outgoing"}  # outgoing weights zeroed, incoming ones kept
    state = {k: v.clone() for k, v in half.model.state_dict().items()}
    with pytest.raises(ArchError, match=r"scaling by 0 3 unit\(s\) of layer 1 would leave it with no working unit "
                                        r"\(it has 6, 0 already removed, 3 read by no layer \(scaled by 0\)\); "
                                        "keep at least one"):
        edit.scale(half.model, "1:3-5", 0, TASK, inplace=True)
    assert all(torch.equal(state[k], v) for k, v in half.model.state_dict().items())  # refused: nothing changed
    # one working unit left: allowed, as before
    assert edit.scale(half.model, "1:3,4", 0, TASK).report.after.accuracy >= 0


def test_channels_of_a_cnn_scaled_by_0_count_too():
    model = build("cnn:1-4-6-10:relu:k3:s2")
    half = edit.scale(model, "1:0,1", 0.0, TASK).model
    with pytest.raises(ArchError, match=r"layer 1 would leave it with no working channel .* 2 read by no layer"):
        edit.scale(half, "1:2,3", 0.0, TASK)
    edit.scale(half, "1:2", 0.0, TASK)  # channel 3 still works
