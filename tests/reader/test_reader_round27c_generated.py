"""Round 27c: read() takes metanet.generate's result as verify and to_graph do (it was "needs an nn.Module")."""

from __future__ import annotations

import metanet


def test_read_of_a_generated_network_is_the_reading_of_its_model():
    g = metanet.generate("digits[3,8]", candidates=2, shots=20, seed=0, verify=False)
    assert repr(metanet.read(g)) == repr(metanet.read(g.model))
