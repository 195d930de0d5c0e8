"""Global magnitude pruning keeps, as documented, at least the LARGEST connection of every layer: a layer whose
weights are all smaller than the others' keeps its strongest weight, not an arbitrary one.

The existing tests checked only that some connection survived; keeping the layer's smallest weight instead (an
argmin for the argmax) passed them all, and left such a layer with its least useful connection."""

from __future__ import annotations

import torch

from metanet import edit
from metanet.nets import build


def test_a_layer_of_tiny_weights_keeps_its_largest_connection():
    model = build("mlp:64-16-10:relu", seed=0)
    with torch.no_grad():
        model.layers[1].weight.mul_(1e-6)  # every head weight below every first-layer weight
    head = model.layers[1].weight.detach().clone()
    edited, _ = edit.prune(model, 0.95, "digits", scope="global")
    kept = edited.layers[1].weight.detach()
    assert int((kept != 0).sum()) == 1, "the head should keep exactly one connection"
    j = int(head.abs().flatten().argmax())
    assert kept.flatten()[j] == head.flatten()[j], "the head's kept connection is not its largest"
