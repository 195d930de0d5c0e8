"""`metanet.edit.repair_backdoor` on an MLP whose forward reads its first weight through a plain list (``self.cache =
[self.layers[0].weight]``): the cut variants (stacked first-layer weights) were scored with ``verify_stacked``, whose
``functional_call`` swaps only the registered tensor, so every cut was scored on the uncut weight (the trigger still
"succeeded") and another strategy was chosen. The same function reading the weight from its slot is repaired the
same way."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from edit_helpers import PIXEL_TRIGGER, PixelTask, pixel_net

from metanet import edit
from metanet.nets import MLP


class ListWeightMLP(MLP):
    """pixel_net as a 16-16-3 MLP whose first weight is read through a plain list (``cached``) or its slot."""

    def __init__(self, cached: bool) -> None:
        super().__init__("mlp:16-16-3:relu")
        self.cached = cached
        self.cache = [self.layers[0].weight]
        net = pixel_net(trigger_weight=10.0, bias0=0.0)  # pixel 15 (the trigger) drives class 0: a cut removes it
        self.load_state_dict({"layers.0.weight": net[1].weight, "layers.0.bias": net[1].bias,
                              "layers.1.weight": net[3].weight, "layers.1.bias": net[3].bias})
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.cache[0] if self.cached else self.layers[0].weight
        return self.layers[1](self.act(F.linear(x.flatten(1), w, self.layers[0].bias)))


def test_repair_scores_cut_variants_of_a_weight_read_through_a_plain_list() -> None:
    listed = edit.repair_backdoor(ListWeightMLP(True), PixelTask(), PIXEL_TRIGGER)
    plain = edit.repair_backdoor(ListWeightMLP(False), PixelTask(), PIXEL_TRIGGER)
    assert plain.report.details["strategy"] == ["cut"]
    assert listed.report.details["strategy"] == plain.report.details["strategy"]
    assert listed.model.cache[0] is listed.model.layers[0].weight
    for (name, p), q in zip(listed.model.named_parameters(), plain.model.parameters()):
        assert torch.equal(p, q), name
