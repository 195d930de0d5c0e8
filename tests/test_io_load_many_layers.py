"""``metanet.load`` of a network with thousands of layers (``metanet.io.MAX_LAYERS`` allows 10,000): its tensors are
put in place module by module. torch's ``load_state_dict`` on the whole network filters every key for every child
module, quadratic in the layers: at the limit a file of 1 MB took a minute to load, ten times its building. The test
counts that work (the keys each ``load_state_dict`` call is given), not seconds."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file
from torch import nn

import metanet
from metanet.nets import Arch


def test_loading_many_layers_gives_each_module_only_its_own_tensors(tmp_path, monkeypatch):
    n = 300  # Linear(1, 1) layers, written directly
    d = Arch(family="mlp", widths=(1,) * (n + 1), activation="relu").to_dict()
    tensors = {f"layers.{i}.{k}": torch.full((1, 1) if k == "weight" else (1,), float(i))
               for i in range(n) for k in ("weight", "bias")}
    path = tmp_path / "deep.safetensors"
    save_file(tensors, str(path), metadata={"metanet.spec": json.dumps(d)})
    given: list[int] = []
    real = nn.Module.load_state_dict

    def spy(self, state_dict, *args, **kwargs):
        given.append(len(state_dict))
        return real(self, state_dict, *args, **kwargs)

    monkeypatch.setattr(nn.Module, "load_state_dict", spy)
    loaded = metanet.load(path)
    assert len(loaded.layers) == n and loaded.layers[-1].weight.item() == n - 1 == loaded.layers[-1].bias.item()
    assert all(m.weight.item() == i == m.bias.item() for i, m in enumerate(loaded.layers))  # item: no grad warning
    # each call holds one layer's weight and bias: the whole network's 600 keys in one call is the quadratic walk
    assert given and max(given) <= 2, f"load_state_dict was given up to {max(given)} tensors at once"
