"""choose() scores the candidates by the selection it is given: its rewards are exactly the cross-fitted rewards
(with its folds and seed) for ``selection="crossfit"``, and the val rewards for ``selection="val"``; the chosen
index is the first best of them."""

from __future__ import annotations

import pytest
import torch

from metanet.loop import AccuracyReward, choose, crossfit_rewards, split_examples
from metanet.loop.select import candidate_rewards

ARCH = "mlp:8-8-3:relu"


@pytest.fixture(scope="module")
def task():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(30)
    x = 1.2 * torch.randn(3, 8, generator=g)[y] + torch.randn(len(y), 8, generator=g)
    return split_examples(x, y, ARCH, shots=12, val=6, test=10, seed=0, name="blobs")


def test_choose_rewards_are_those_of_the_selection_it_was_given(task, tiny_writer):
    cf = crossfit_rewards(tiny_writer, task.arch, *task.labelled(), task.num_classes, 4, AccuracyReward(), folds=3,
                          seed=2, name=task.name).rewards
    val, _ = candidate_rewards(tiny_writer, task, 4, AccuracyReward(), "val", seed=2)
    assert not torch.equal(cf, val)  # the two selections score these candidates differently
    by_cf = choose(tiny_writer, task, candidates=4, selection="crossfit", folds=3, seed=2)
    assert torch.equal(by_cf.rewards, cf) and by_cf.index == int(torch.argmax(cf))
    by_val = choose(tiny_writer, task, candidates=4, selection="val", folds=3, seed=2)
    assert torch.equal(by_val.rewards, val) and by_val.index == int(torch.argmax(val))
    # another number of folds cuts the pool differently: choose passes its folds on
    other = crossfit_rewards(tiny_writer, task.arch, *task.labelled(), task.num_classes, 4, AccuracyReward(), folds=4,
                             seed=2, name=task.name).rewards
    assert not torch.equal(other, cf)
    assert torch.equal(choose(tiny_writer, task, candidates=4, selection="crossfit", folds=4, seed=2).rewards, other)
