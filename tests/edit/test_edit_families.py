"""Neuron edits on every family against a hand-made ablation (the neuron's output forced by a hook on the model's
own modules, not by NetView's masks), and on an ``nn.Sequential`` stacking several activations before its next
weight layer (``Linear, Tanh, ReLU``: the neuron is ``relu(tanh(z))``, not ``relu(z)``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit
from metanet.errors import ArchError
from metanet.inspect import NetView
from metanet.nets import build
from metanet.tasks import get

X, Y = get("digits").split("test")


def _forced(model: nn.Module, x: torch.Tensor, layer: int, j: int, value: float) -> torch.Tensor:
    """Logits of a metanet MLP / CNN with unit / channel ``j`` of hidden layer ``layer`` set to ``value``."""
    a = model.arch
    with torch.no_grad():
        h = x if a.family == "cnn" else x.flatten(1)
        for i, lin in enumerate(model.layers[:-1]):
            z = model.act(lin(h)).clone()
            if i + 1 == layer:
                z[:, j] = value
            h = h + z if i in a.skip_layers() else z
        return model.layers[-1](h.mean(dim=(2, 3)) if a.family == "cnn" else h)


@pytest.mark.parametrize("arch", ["mlp:64-12-10:identity", "mlp:64-12-12-10:sigmoid:skip", "mlp:64-12-12-10:gelu:skip",
                                  "cnn:1-4-6-10:silu:k3:s2", "cnn:1-4-6-10:sigmoid:k3:s1"])
def test_remove_and_clamp_equal_a_hand_made_ablation(arch):
    model = build(arch, seed=0).eval()
    for layer in range(1, len(model.layers)):
        res = edit.remove(model, (layer, 3), "digits")
        with torch.no_grad():
            got = res.model(X)
        assert torch.allclose(got, _forced(model, X, layer, 3, 0.0), atol=1e-5)
        assert res.report.after.accuracy == float((got.argmax(1) == Y).double().mean())
        res = edit.clamp(model, (layer, 1), "digits", value=0.25)
        with torch.no_grad():
            assert torch.allclose(res.model(X), _forced(model, X, layer, 1, 0.25), atol=1e-5)


def _chained(second: type[nn.Module] = nn.ReLU, first: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), first(), second(), nn.Linear(16, 10)).eval()


def _neuron(model: nn.Module, j: int) -> torch.Tensor:
    """Outputs of hidden unit ``j`` (after every activation before the next Linear), from the modules themselves."""
    with torch.no_grad():
        return model[3](model[2](model[1](model[0](X))))[:, j]


def test_clamp_of_stacked_activations_outputs_the_value():
    model = _chained()  # relu(tanh(z)): a clamp solved for relu alone gave relu(tanh(0.9)) = 0.72
    assert NetView(model).layer(1).activation == "tanh+relu"
    res = edit.clamp(model, (1, 0), "digits", value=0.9)
    assert torch.allclose(_neuron(res.model, 0), torch.full((len(X),), 0.9), atol=1e-6)
    sig = _chained(first=nn.Sigmoid)  # relu(sigmoid(z)) lies in (0, 1): 2 was accepted and gave 0.88
    with pytest.raises(ArchError, match=r"sigmoid\+relu neuron .*cannot output 2.*valid clamp values for sigmoid"):
        edit.clamp(sig, (1, 0), "digits", value=2.0)
    assert torch.allclose(_neuron(edit.clamp(sig, (1, 0), "digits", value=0.2).model, 0),
                          torch.full((len(X),), 0.2), atol=1e-6)


def test_scale_through_stacked_activations_is_refused_when_not_exact():
    # a tanh after the Flatten: the outgoing weights cannot take the factor, and relu(tanh(2z)) != 2 relu(tanh(z)),
    # so scaling the incoming weights (as for relu alone) was no scaling at all
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.ReLU(), nn.Flatten(), nn.Tanh(),
                          nn.Linear(16, 10)).eval()
    with pytest.raises(ArchError, match="cannot scale neurons of layer 1 by 2 exactly"):
        edit.scale(model, (1, 0), 2.0, "digits")
    # a chain of positively homogeneous activations still scales through its incoming weights, exactly
    torch.manual_seed(0)
    homog = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LeakyReLU(), nn.ReLU(), nn.Flatten(), nn.Tanh(),
                          nn.Linear(16, 10)).eval()
    res = edit.scale(homog, (1, 0), 2.0, "digits")
    assert res.report.details["via"] == "incoming"
    assert torch.allclose(_neuron(res.model, 0), 2 * _neuron(homog, 0), atol=1e-6)


def test_remove_counts_a_zeroed_sigmoid_relu_unit_that_is_still_read():
    # zero incoming weights and bias, but relu(sigmoid(0)) = 0.5 still reaches the next layer: removing it changes
    # the network, and the report counted it as removed already (removed: 0)
    model = _chained(first=nn.Sigmoid)
    with torch.no_grad():
        model[1].weight[2] = 0
        model[1].bias[2] = 0
    res = edit.remove(model, (1, 2), "digits")
    assert res.report.details["removed"] == 1 and "already_removed" not in res.report.details
    with torch.no_grad():
        assert not torch.equal(res.model(X), model(X))
        assert torch.equal(res.model[4].weight[:, 2], torch.zeros(10))
