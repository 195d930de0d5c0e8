"""``edit.clamp`` makes the neuron OUTPUT the value asked for, on every input, for each activation (the bias is the
activation's inverse of it), and a value the activation cannot output (tanh's ±1, sigmoid's 0 and 1: its limits,
never reached) is an ArchError naming the problem, not a raw ``math domain error``.

The clamp tests used relu and sigmoid at positive values: a leaky_relu inverted with the slope multiplied instead
of divided (a clamp to -0.5 giving -0.00005) and tanh bounds taken as inclusive (``math.atanh(1.0)``: a raw
ValueError) both passed them."""

from __future__ import annotations

import pytest
import torch
from inspect_helpers import planted_task

from metanet import edit
from metanet.errors import ArchError
from metanet.nets import build
from metanet.nets.activations import activation


@pytest.mark.parametrize("act,value", [("leaky_relu", -0.5), ("leaky_relu", 0.7), ("tanh", -0.9), ("tanh", 0.25),
                                       ("sigmoid", 0.2), ("relu", 0.0), ("relu", 1.5)])
def test_the_clamped_neuron_outputs_the_value(act, value):
    model = build(f"mlp:8-9-4:{act}", seed=0).eval()
    task = planted_task()
    edited = edit.clamp(model, f"1:3={value}", task).model
    x, _ = task.split("test")
    with torch.no_grad():
        out = activation(act)(edited.layers[0](x.flatten(1)))
    assert torch.allclose(out[:, 3], torch.full((len(x),), value), atol=1e-5), (act, value, out[:3, 3])


@pytest.mark.parametrize("act,value", [("tanh", 1.0), ("tanh", -1.0), ("sigmoid", 0.0), ("sigmoid", 1.0),
                                       ("relu", -0.1)])
def test_a_value_the_activation_cannot_output_is_an_arch_error(act, value):
    model = build(f"mlp:8-9-4:{act}", seed=0).eval()
    with pytest.raises(ArchError, match="cannot output|valid"):
        edit.clamp(model, f"1:3={value}", planted_task())
