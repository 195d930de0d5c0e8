"""Episodes and support augmentation against their docstrings, with answers computed by hand (session 33)."""

from __future__ import annotations

import numpy as np
import torch

from metanet.writer.augment import augment_support, neighbour_correlation
from metanet.writer.episodes import EpisodeSampler, make_episode


def test_shots_drawn_at_the_bottom_of_the_range_are_the_minimum(monkeypatch):
    # shots (min, max) are drawn log-uniformly as int(exp(log(min) + u (log(max + 1) - log(min)))); a draw u = 0
    # gave int(exp(log(5))) = int(4.999...) = 4 shots, below the minimum of (5, 5)
    sampler = EpisodeSampler(("digits",), shots=(5, 5), query=2, p_permute=0.0, p_invert=0.0, seed=0)
    sampler.episode(0)  # the data set is loaded before torch.rand is replaced
    monkeypatch.setattr(torch, "rand", lambda *size, generator=None, **kw: torch.zeros(*size))
    ep = sampler.episode(1)
    assert ep.meta["shots"] == 5
    assert torch.equal(torch.bincount(ep.support[1]), torch.full((len(ep.support[1].unique()),), 5))


def test_make_episode_support_takes_at_most_half_of_a_small_class():
    # documented: support min(shots, half of the class), the query from the rest (here 3 + 3 of 6, and 2 + 3 of 5)
    x = torch.arange(11.0).view(11, 1)
    y = torch.tensor([0] * 6 + [1] * 5)
    (sx, sy), (qx, qy), spec = make_episode(x, y, [1, 0], 10, 10, torch.Generator().manual_seed(0), name="t")
    assert spec == "t[1,0]" and sy.tolist() == [0, 0, 1, 1, 1] and qy.tolist() == [0, 0, 0, 1, 1, 1]
    assert set(sx.flatten().tolist()).isdisjoint(qx.flatten().tolist())
    assert (sx[sy == 0] >= 6).all() and (qx[qy == 1] < 6).all()  # class 1 (examples 6..10) became label 0


def test_neighbour_correlation_is_the_mean_pearson_correlation_of_neighbours():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, 4, 5, generator=g).cumsum(-1).cumsum(-2)
    x[:, :, 0, 0] = 0.5  # a constant position: its pairs are left out
    a = x.double().numpy()
    per_axis = []
    for axis in (2, 3):
        n = a.shape[axis] - 1
        lo = np.take(a, range(n), axis).reshape(40, -1)
        hi = np.take(a, range(1, n + 1), axis).reshape(40, -1)
        keep = (lo.std(0) > 1e-3) & (hi.std(0) > 1e-3)
        per_axis.append(np.mean([np.corrcoef(lo[:, p], hi[:, p])[0, 1] for p in np.flatnonzero(keep)]))
    assert abs(neighbour_correlation(x) - np.mean(per_axis)) < 1e-5


def test_augment_support_threshold_is_the_lower_median_of_the_class_counts():
    # counts 2, 2, 9, 9: the documented median is the lower middle count, 2 (not 5.5)
    g = torch.Generator().manual_seed(1)
    y = torch.tensor([0] * 2 + [1] * 2 + [2] * 9 + [3] * 9)
    x = torch.randn(len(y), 1, 6, 6, generator=g).cumsum(-1).cumsum(-2)  # smooth: neighbour correlation high
    xs, ys = augment_support(x, y, "shift", 2)
    assert xs.shape == (5 * len(y), 1, 6, 6) and torch.equal(ys, y.repeat(5)) and torch.equal(xs[: len(y)], x)
    assert augment_support(x, y, "shift", 1)[0] is x
