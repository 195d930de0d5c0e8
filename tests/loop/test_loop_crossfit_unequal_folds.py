"""Cross-fitting when the folds cannot be equal: the reward weighs each fold by its size (so it is the pooled
held-out accuracy), and as many folds as labelled examples (leave-one-out) is a valid cut."""

from __future__ import annotations

import pytest
import torch

from metanet.loop import AccuracyReward, crossfit_rewards, fold_ids
from metanet.writer.lightning import written_logits

ARCH = "mlp:8-8-3:relu"


def _blobs(n_per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(n_per_class)
    x = 1.2 * torch.randn(3, 8, generator=g)[y] + torch.randn(len(y), 8, generator=g)
    return x, y


def test_crossfit_reward_weighs_unequal_folds_by_their_size(tiny_writer):
    x, y = _blobs(7)  # 21 examples in 4 folds: sizes 6, 5, 5, 5
    cf = crossfit_rewards(tiny_writer, ARCH, x, y, 3, candidates=3, reward=AccuracyReward(tie=0.0), folds=4, seed=1)
    sizes = torch.bincount(cf.fold, minlength=4)
    assert sizes.max() != sizes.min()  # the case a plain mean of the fold rewards gets wrong
    correct = torch.zeros(3)
    with torch.no_grad():
        for f in range(4):
            held = cf.fold == f
            p = tiny_writer.write(ARCH, x[~held], y[~held], 3, candidates=3, seed=1)
            correct += (written_logits(ARCH, p, x[held]).argmax(-1) == y[held]).sum(1)
    pooled = correct.double() / len(y)
    assert torch.allclose(cf.rewards, pooled, atol=1e-9)
    # the pooled reports too: their accuracy is over all the examples, not a mean of the fold accuracies
    assert [r.accuracy for r in cf.reports] == pytest.approx(pooled.tolist(), abs=1e-9)
    plain = cf.fold_rewards.mean(0)
    assert not torch.allclose(cf.rewards, plain, atol=1e-9)  # the data does tell the two apart


def test_fold_ids_takes_as_many_folds_as_examples():
    y = torch.tensor([0, 1, 0, 1])  # two of every class: each fold holds one, the others see both classes
    f = fold_ids(y, 2, 4, seed=0)
    assert sorted(f.tolist()) == [0, 1, 2, 3]
