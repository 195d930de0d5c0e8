"""`metanet.edit.prune(method="necessity")` on an MLP whose forward reads its first weight through a plain list
(``self.cache = [self.layers[0].weight]``): the saliency's ``functional_call`` swaps only the registered tensor, so
that weight's per-example gradients came out 0 and all of it ranked as free to remove. The same function reading
the weight from its slot is pruned to the very same network."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metanet import edit
from metanet.nets import MLP, build


class ListWeightMLP(MLP):
    """A 64-32-10 MLP whose first layer's weight is read through a plain list (``cached``) or its slot."""

    def __init__(self, cached: bool) -> None:
        super().__init__("mlp:64-32-10:relu")
        self.cached = cached
        self.cache = [self.layers[0].weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0] if self.cached else self.layers[0].weight
        return self.layers[1](self.act(F.linear(x.flatten(1), w, self.layers[0].bias)))


def test_necessity_saliency_reaches_a_weight_read_through_a_plain_list():
    state = build("mlp:64-32-10:relu", seed=0).state_dict()
    listed, plain = ListWeightMLP(True), ListWeightMLP(False)
    listed.load_state_dict(state)
    plain.load_state_dict(state)
    a = edit.prune(listed, 0.2, "digits", method="necessity", max_examples=64).model
    b = edit.prune(plain, 0.2, "digits", method="necessity", max_examples=64).model
    assert a.cache[0] is a.layers[0].weight
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p == 0, q == 0), name  # the same connections pruned
        torch.testing.assert_close(p, q)
