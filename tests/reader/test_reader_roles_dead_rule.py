"""The reader's *dead* role as `metanet.reader.roles` documents it: ``|a| > 1e-2`` on fewer than 1% of the examples
**or** a standard deviation below 1e-3. A neuron firing on one example in 200 is dead however strongly it fires, and
a live neuron whose activations are all negative (tanh, GELU) is not dead: "active" is by magnitude, not sign."""

from __future__ import annotations

import torch

from metanet.reader.roles import DEAD, role_codes


def _labels(n: int = 200) -> torch.Tensor:
    return torch.arange(n) % 2


def test_a_neuron_active_on_under_one_percent_of_examples_is_dead_however_strong():
    y = _labels()
    acts = torch.zeros(1, len(y), 1)
    acts[0, 0, 0] = 5.0  # 1 of 200 examples (0.5%): its standard deviation alone is far above 1e-3
    assert float(acts.std(1)) > 1e-3
    assert role_codes(acts, y, 2).tolist() == [[DEAD]]


def test_a_neuron_with_only_negative_activations_is_live_and_selective():
    y = _labels()
    # a tanh-like unit: -0.5 on class 0, -0.9 on class 1; every |a| > 1e-2, so it is active on every example
    acts = torch.where(y == 0, -0.5, -0.9).reshape(1, -1, 1)
    assert role_codes(acts, y, 2).tolist() == [[2 + 0]]
