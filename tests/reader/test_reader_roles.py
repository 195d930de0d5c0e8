"""Neuron roles (`metanet.reader.roles`) as its docstring documents them, on hand-built networks (float32 and
float64, labels of any integer dtype); bad inputs are ConfigErrors naming the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metanet
from metanet.errors import ConfigError
from metanet.graph import layout
from metanet.reader.roles import DEAD, POLY, hidden_activations, role_codes


def _known_net():
    """A 4-input, 4-hidden, 3-class ReLU MLP: hidden 0 dead (negative bias), 1 fires on input 1 only (class 1), 2 reads
    input 3 (varying alike in every class: polysemantic), 3 fires on input 2 only (class 2)."""
    m = metanet.nets.build("mlp:4-4-3:relu", seed=0)
    with torch.no_grad():
        w, b = m.layers[0].weight, m.layers[0].bias
        w.zero_()
        b.zero_()
        b[0] = -1.0
        w[1, 1] = 1.0
        w[2, 3] = 1.0
        w[3, 2] = 1.0
    # example i of class i % 3 lights input (i % 3)
    x = torch.zeros(30, 4)
    y = torch.arange(30) % 3
    x[torch.arange(30), y] = 1.0
    x[:, 3] = (torch.arange(30) // 3 % 5) / 4  # the same spread in every class
    return m, x, y


def test_roles_of_a_hand_built_network_follow_the_docstring():
    m, x, y = _known_net()
    lay = layout(m)
    params = {k: v[None] for k, v in m.state_dict().items()}
    (acts,) = hidden_activations(lay, params, x)
    assert role_codes(acts, y, 3).tolist() == [[DEAD, 2 + 1, POLY, 2 + 2]]
    # float64 networks (and their activations) have the same roles: was an einsum dtype error in both functions
    p64 = {k: v.double() for k, v in params.items()}
    (a64,) = hidden_activations(lay, p64, x)
    assert a64.dtype == torch.float64
    assert role_codes(a64, y, 3).tolist() == [[DEAD, 3, POLY, 4]]
    # labels of any integer dtype, num_classes as a numpy integer
    assert role_codes(acts, y.int(), np.int64(3)).tolist() == [[DEAD, 3, POLY, 4]]


@pytest.mark.parametrize("acts, y, k, match", [
    (torch.rand(1, 6, 2), torch.tensor([0, 1, 2, 0, 1, 5]), 3, r"labels must lie in \[0, 3\).*0\.\.5"),
    (torch.rand(1, 6, 2), torch.tensor([0, 1, -1, 0, 1, 2]), 3, r"labels must lie in \[0, 3\)"),
    (torch.rand(1, 6, 2), torch.tensor([0, 1, 2]), 3, "3 labels for activations of 6 examples"),
    (torch.rand(1, 0, 2), torch.zeros(0, dtype=torch.long), 3, "at least one"),
    (torch.rand(6, 2), torch.zeros(6, dtype=torch.long), 3, r"shape \(networks, examples, width\); got \(6, 2\)"),
    (torch.rand(1, 6, 2), torch.zeros(6), 3, "integer class labels"),
    (torch.rand(1, 6, 2), torch.zeros(6, dtype=torch.long), 0, "num_classes must be a whole number >= 1"),
])
def test_bad_role_inputs_are_config_errors_naming_the_problem(acts, y, k, match):
    with pytest.raises(ConfigError, match=match):  # were raw one_hot / einsum / median RuntimeErrors
        role_codes(acts, y, k)
