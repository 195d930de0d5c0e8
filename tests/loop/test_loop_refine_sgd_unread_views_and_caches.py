"""``refine(method="sgd")`` of networks that only look like the weight-through-a-view case. A layer the forward never
uses gets no gradient whatever it keeps: a view of its weight kept in a plain list (with grad or ``.data``) made sgd
raise ArchError ("the forward reads it through a view"), though the forward read no such view. And a network that
caches its activations in a plain list (computed with grad at every step) made sgd's final copy raise torch's raw
RuntimeError (a non-leaf tensor cannot be deep-copied): the copy is only needed to detach views made with grad."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet


class Unused(nn.Module):
    """A 64-10 linear network with a spare layer ``aux`` it never runs, whose weight it keeps a view of (``how``)."""

    def __init__(self, how: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc, self.aux = nn.Linear(64, 10), nn.Linear(64, 10)
        self.views = [self.aux.weight.data.t() if how == "data" else self.aux.weight.t()] if how else []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class Cached(Unused):
    """``Unused("")`` that keeps its last logits in a plain list, as a feature-extraction hook would."""

    def __init__(self) -> None:
        super().__init__("")
        self.last: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last[:] = [super().forward(x)]
        return self.last[0]


def _examples() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linspace(-1, 1, 64 * 64).view(64, 64).sin(), torch.arange(64) % 10


KW = dict(method="sgd", steps=2, lr=1e-2, batch_size=32, verify_on=None)


@pytest.mark.parametrize("how", ["grad", "data"])
def test_a_view_of_a_layer_the_forward_does_not_use_is_no_error(how):
    plain = metanet.refine(Unused(""), _examples(), **KW)
    r = metanet.refine(Unused(how), _examples(), **KW)
    assert r.history == plain.history
    assert torch.equal(r.model.fc.weight, plain.model.fc.weight)
    assert torch.equal(r.model.aux.weight, Unused("").aux.weight)  # no gradient: left as it was, as without the view


def test_a_weight_read_through_a_no_grad_view_is_still_an_arch_error():
    class Read(Unused):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.linear(x.flatten(1), self.views[0].t(), self.fc.bias)

    with pytest.raises(metanet.errors.ArchError, match=r"cannot refine parameter 'aux\.weight'"):
        metanet.refine(Read("data"), _examples(), **KW)


def test_a_network_caching_its_activations_in_a_list_is_refined():
    r = metanet.refine(Cached(), _examples(), **KW)
    plain = metanet.refine(Unused(""), _examples(), **KW)
    assert torch.equal(r.model.fc.weight, plain.model.fc.weight)
    with torch.no_grad():
        assert torch.equal(r.model(_examples()[0]), plain.model(_examples()[0]))
