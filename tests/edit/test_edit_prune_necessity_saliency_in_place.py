"""The necessity saliency taken one example at a time on the network's own parameters (``_saliency_in_place``: for a
network whose forward reads a weight through a plain list) is the vmap-ped one's figure, ``0.5 * mean(g^2) * w^2``,
not only some nonzero ranking; it runs on a frozen network and under ``torch.no_grad()`` as the vmap-ped one does,
and leaves the frozen network's ``requires_grad`` flags as they were."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metanet import edit
from metanet.edit.edits import _saliency, _saliency_in_place
from metanet.nets import MLP, build
from metanet.verify import _held_elsewhere


class _Listed(MLP):
    """A 64-32-10 MLP whose first layer's weight is read through a plain list."""

    def __init__(self) -> None:
        super().__init__("mlp:64-32-10:relu")
        self.cache = [self.layers[0].weight]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers[1](self.act(F.linear(x.flatten(1), self.cache[0], self.layers[0].bias)))


def _listed() -> _Listed:
    net = _Listed()
    net.load_state_dict(build("mlp:64-32-10:relu", seed=0).state_dict())
    return net


def test_the_in_place_saliency_is_the_vmapped_ones_figure() -> None:
    plain = build("mlp:64-32-10:relu", seed=0)
    assert not _held_elsewhere(plain)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(48, 64, generator=g) * 16, torch.randint(0, 10, (48,), generator=g)
    names = [n for n, _ in plain.named_parameters() if n.endswith("weight")]
    want, got = _saliency(plain, names, x, y), _saliency_in_place(plain, names, x, y)
    assert set(got) == set(names)
    for k in names:
        assert got[k].abs().sum() > 0, k
        torch.testing.assert_close(got[k], want[k], rtol=1e-4, atol=1e-9)


def test_a_frozen_listed_network_is_pruned_under_no_grad_as_outside_it() -> None:
    want = edit.prune(_listed(), 0.2, "digits", method="necessity", max_examples=64).model
    net = _listed()
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        got = edit.prune(net, 0.2, "digits", method="necessity", max_examples=64).model
    assert [p.requires_grad for p in got.parameters()] == [False] * 4  # the frozen network's flags are put back
    assert [p.requires_grad for p in net.parameters()] == [False] * 4
    for (name, p), q in zip(got.named_parameters(), want.parameters()):
        assert torch.equal(p == 0, q == 0), name
    assert any(bool((p == 0).any()) for p in got.parameters())  # something was pruned
