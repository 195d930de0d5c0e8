"""`metanet.generate` returns its networks in eval mode, as documented, the chosen one and every candidate."""

from __future__ import annotations

import metanet


def test_the_model_and_every_candidate_are_in_eval_mode(trained, digits):
    g = metanet.generate(digits, candidates=2, seed=0, shots=5, writer=trained)
    assert not any(m.training for net in g.candidates for m in net.modules())
    assert not g.model.training
