"""``metanet.load`` of a file holding fewer tensors than its header's architecture has weight layers (refused before
the network is built): the message counts both in the singular where there is one."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import metanet
from metanet.errors import FileFormatError
from metanet.nets import spec


def _write(path, tensors: dict, model: nn.Module) -> None:
    save_file(tensors, str(path), metadata={"metanet.spec": json.dumps(spec(model))})


def test_one_tensor_for_two_weight_layers_is_counted_in_the_singular(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    path = tmp_path / "few.safetensors"
    _write(path, {"1.weight": model[1].weight.detach().contiguous()}, model)
    with pytest.raises(FileFormatError, match=r"it has 2 weight layers, the file holds 1 tensor$"):
        metanet.load(path)


def test_no_tensor_for_one_weight_layer_is_counted_in_the_singular(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3))
    path = tmp_path / "none.safetensors"
    _write(path, {}, model)
    with pytest.raises(FileFormatError, match=r"it has 1 weight layer, the file holds 0 tensors$"):
        metanet.load(path)
    # the same file with its tensors loads
    _write(path, {k: v.contiguous() for k, v in model.state_dict().items()}, model)
    assert torch.equal(metanet.load(path)[0].weight, model[0].weight)
