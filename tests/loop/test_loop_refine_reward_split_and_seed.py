"""refine's reward is computed on minibatches of the split it refines on (``split``, "train" by default), never on the
split its Reports verify on nor on the test split; the seed picks those minibatches and perturbations: the same seed
gives the same run, another seed another one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from metanet.loop import refine
from metanet.nets import build
from metanet.tasks import resolve


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return build("mlp:64-16-10:relu", seed=0)


def _clean_reward(net: torch.nn.Module, split: str, seed: int, batch_size: int) -> float:
    x, y = resolve("digits").split(split)
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:batch_size]
    with torch.no_grad():
        return -F.cross_entropy(net(x[idx]), y[idx]).item()


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
@pytest.mark.parametrize("split", ["train", "val"])
def test_the_reward_is_computed_on_the_refine_split(net, method, split) -> None:
    verify_on = "test" if split == "val" else "val"
    res = refine(net, "digits", method=method, steps=1, population=2, batch_size=64, seed=1, split=split,
                 verify_on=verify_on)
    assert res.history == [_clean_reward(net, split, 1, 64)]
    assert res.before.split == res.after.split == verify_on  # the reports score another split
    others = {s: _clean_reward(net, s, 1, 64) for s in ("train", "val", "test") if s != split}
    assert all(v != res.history[0] for v in others.values()), others  # the check can tell the splits apart


def test_the_seed_picks_the_batches_and_perturbations(net) -> None:
    kw = dict(steps=2, population=2, batch_size=64, verify_on=None)
    a, b, c = (refine(net, "digits", seed=s, **kw) for s in (1, 1, 2))
    assert a.history == b.history and all(torch.equal(p, q) for p, q in zip(a.model.parameters(),
                                                                             b.model.parameters()))
    assert a.history[0] == _clean_reward(net, "train", 1, 64)
    assert c.history[0] == _clean_reward(net, "train", 2, 64) != a.history[0]
    assert not any(torch.equal(p, q) for p, q in zip(a.model.parameters(), c.model.parameters()))
