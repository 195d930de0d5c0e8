"""The writer's noise input and refinement passes: each of K candidates starts from its own seeded weights (so the K
differ), and pass ``t`` of ``steps > 1`` starts from pass ``t-1``'s weights (it equals a one-pass write started
there)."""

from __future__ import annotations

import torch

from metanet.tasks import get
from metanet.writer import Writer

ARCH = "mlp:64-16-10:relu"


def _support():
    x, y = get("digits").split("train")
    return x[:60], y[:60]


@torch.no_grad()
def test_every_candidate_starts_from_its_own_seeded_weights():
    x, y = _support()
    p = Writer().eval().write(ARCH, x, y, 10, candidates=3, seed=0)
    w = p["layers.0.weight"]
    assert not torch.equal(w[0], w[1]) and not torch.equal(w[1], w[2]) and not torch.equal(w[0], w[2])


@torch.no_grad()
def test_a_refinement_pass_starts_from_the_previous_pass():
    x, y = _support()
    torch.manual_seed(0)
    two = Writer(steps=2).eval()
    outs = two.write(ARCH, x, y, 10, candidates=2, seed=5, all_steps=True)
    assert len(outs) == 2 and not torch.equal(outs[0]["layers.0.weight"], outs[1]["layers.0.weight"])
    one = Writer(steps=1).eval()
    one.load_state_dict(two.state_dict())
    again = one.write(ARCH, x, y, 10, candidates=2, seed=5, start=outs[0])
    for k in outs[1]:
        torch.testing.assert_close(again[k], outs[1][k], rtol=0, atol=0)

