"""`metanet.edit.neurons.act_at_zero` of a chain of activations (an ``nn.Sequential`` stacking several, named
``"a+b"``: ``b(a(x))``) applies them in order, as `inverse_activation` inverts them; the order matters once the first
maps 0 to a non-zero value (``tanh(sigmoid(0)) = tanh(0.5)``, not ``sigmoid(tanh(0)) = 0.5``)."""

from __future__ import annotations

import math

import pytest

from metanet.edit.neurons import act_at_zero, inverse_activation


@pytest.mark.parametrize("name, want", [("sigmoid+tanh", math.tanh(0.5)), ("tanh+sigmoid", 0.5),
                                        ("sigmoid+relu", 0.5), ("relu+sigmoid", 0.5), ("sigmoid", 0.5)])
def test_act_at_zero_applies_the_chain_in_order(name, want):
    assert act_at_zero(name) == pytest.approx(want, abs=1e-7)


def test_act_at_zero_is_the_value_whose_inverse_is_zero():
    assert inverse_activation("sigmoid+tanh", act_at_zero("sigmoid+tanh")) == pytest.approx(0.0, abs=1e-6)
