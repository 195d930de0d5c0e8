"""`neural_cleanse` as its docstring states it: images ``(C, H, W)`` share ONE mask over their channels (a trigger
is a place in the image, whatever its colour: masks ``(nets, K, 1, H, W)``, patterns ``(nets, K, C, H, W)``), and
``l1`` is the SMALLEST mask norm that reached the class over the search, with the mask that had it, not the last."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metanet.edit.cleanse import neural_cleanse


def _always_right(k: int, grow: float = 4.0):
    """Logits ``(nets, M, K)`` that put every stamped input in its target class, the more confidently the brighter
    the stamped input: the search is always successful and its cross-entropy term grows the mask."""

    def forward(xs: torch.Tensor) -> torch.Tensor:
        nets, m = xs.shape[:2]
        target = torch.arange(k).repeat_interleave(m // k)
        return F.one_hot(target, k).float() * (1 + grow * xs.flatten(2).mean(-1))[..., None]

    return forward


def test_colour_images_share_one_mask_over_their_channels():
    x = torch.rand(6, 3, 5, 4)
    l1, masks, patterns = neural_cleanse(_always_right(2), x, 2, 1, steps=3, batch=4, seed=0)
    assert l1.shape == (1, 2) and masks.shape == (1, 2, 1, 5, 4) and patterns.shape == (1, 2, 3, 5, 4)
    assert torch.allclose(l1, masks.flatten(2).sum(-1))


def test_l1_is_the_smallest_successful_mask_not_the_last():
    x = torch.zeros(8, 1, 4, 4)
    first, m1, _ = neural_cleanse(_always_right(2), x, 2, 1, steps=1, batch=4, seed=0)
    more, m20, _ = neural_cleanse(_always_right(2), x, 2, 1, steps=20, batch=4, seed=0)
    # the same start (seed): the first step's mask is among the 20 steps' successful masks, and the search grew it
    assert bool((more <= first).all()) and torch.allclose(more, m20.flatten(2).sum(-1))
    assert torch.equal(more, first) and torch.equal(m20, m1)
