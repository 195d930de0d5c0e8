"""Rewards that are plugged in, refine on examples and on padded convolutions, and a resumed Lightning epoch."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metanet.errors import ConfigError
from metanet.loop import AccuracyReward, Reward, SizePenalty, refine
from metanet.verify import Report

REPORTS = [Report(0.5, 1.0, [], 10, 0.0), Report(0.5, 0.5, [], 10, 0.0), Report(0.9, math.inf, [], 10, 0.0)]
PARAMS = {"0.weight": torch.randn(3, 4, 5), "0.bias": torch.randn(3, 4)}


class _ListReward(Reward):
    def score(self, reports, params):
        return [r.accuracy for r in reports]


class _ColumnReward(Reward):
    def score(self, reports, params):
        return torch.tensor([[r.accuracy] for r in reports])


def test_a_custom_reward_may_return_a_list_and_must_return_one_reward_per_candidate():
    # a list was an AttributeError ('list' object has no attribute 'double')
    assert _ListReward()(REPORTS, PARAMS).tolist() == [0.5, 0.5, -1e3]
    # a (K, 1) column broadcast silently to a (K, K) table of rewards
    with pytest.raises(ConfigError, match=r"_ColumnReward\.score must return a tensor of shape \(3,\), one reward per "
                                          r"candidate, got shape \(3, 1\)"):
        _ColumnReward()(REPORTS, PARAMS)
    with pytest.raises(ConfigError, match=r"shape \(3,\)"):
        (AccuracyReward() + _ColumnReward())(REPORTS, PARAMS)


def test_rewards_add_only_rewards_and_sum_from_zero():
    # `AccuracyReward() + 0.5` was accepted and failed in the loop's scoring as an AttributeError
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'AccuracyReward' and 'float'"):
        AccuracyReward() + 0.5
    total = sum([AccuracyReward(), SizePenalty(0.1)])  # was a TypeError (0 + Reward)
    expected = AccuracyReward()(REPORTS, PARAMS) + SizePenalty(0.1).score(REPORTS, PARAMS)
    assert torch.allclose(total(REPORTS, PARAMS)[:2], expected[:2]) and total(REPORTS, PARAMS)[2] == -1e3


def test_size_penalty_counts_a_scalar_weight_per_candidate():
    # a network with a 0-d parameter named "...weight" (stacked: shape (K,)) was an IndexError
    p = {"scale.weight": torch.tensor([0.0, 1.0, 2.0]), "fc.weight": torch.zeros(3, 2, 2)}
    assert SizePenalty(1.0)(REPORTS[:2] + [Report(0.1, 1.0, [], 10, 0.0)], p).tolist() == [0.0, -0.2, -0.2]


@pytest.mark.parametrize("make", [lambda: AccuracyReward(tie="0.1"), lambda: AccuracyReward(tie=True),
                                  lambda: SizePenalty(weight=None), lambda: SizePenalty(threshold="0")])
def test_reward_settings_of_the_wrong_type_are_config_errors(make):
    with pytest.raises(ConfigError, match="needs (a )?finite"):  # was a TypeError from math.isfinite
        make()


def test_refine_on_examples_that_use_only_some_of_the_outputs(digits_pool):
    # labels 0..4 for a 10-output network: refine accepted it, then its before/after reports raised ArchError
    x, y = digits_pool
    sub = y < 5
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    res = refine(net, (x[sub], y[sub]), steps=2, population=2)
    assert len(res.after.per_class) == 10 and res.after.n == int(sub.sum())
    # measured on the examples refined on: was labelled "test"
    assert res.before.split == "train" and res.after.split == "train"
    held = refine(net, (x[sub], y[sub]), method="activity", steps=2, population=2, verify_on=(x, y))
    assert held.after.split == "examples" and held.after.n == len(y)


def _conv_net(**conv):
    torch.manual_seed(0)
    c = nn.Conv2d(1, 4, 3, **conv)
    return nn.Sequential(c, nn.Tanh(), nn.Flatten(), nn.Linear(c(torch.zeros(1, 1, 3, 3)).numel(), 3))


@pytest.mark.parametrize("conv", [dict(padding=1, padding_mode="reflect"), dict(padding=2, padding_mode="circular"),
                                  dict(padding="same"), dict(padding="valid")])
def test_activity_perturbation_estimates_the_gradient_of_padded_convolutions(conv):
    # reflect / circular padding: the estimate was correlated with zero-padded inputs (cosine to the true gradient
    # -0.1 / 0.5); padding "same" / "valid": a raw RuntimeError from convolution_backward
    from metanet.loop.refine import _activity_step

    g = torch.Generator().manual_seed(0)
    # centred inputs on a 3x3 image: the padded border carries much of the gradient
    x, y = torch.rand(8, 1, 3, 3, generator=g) - 0.5, torch.randint(0, 3, (8,), generator=g)
    net = _conv_net(**conv).eval()
    F.cross_entropy(net(x), y).backward()
    true = net[0].weight.grad.clone()
    _activity_step(net, [net[0]], x, y, 2000, 1e-3, g, "loss")
    assert F.cosine_similarity(true.flatten(), net[0].weight.grad.flatten(), 0) > 0.95
    res = refine(_conv_net(**conv), (x, y), method="activity", steps=2, population=2, verify_on=None)
    assert not torch.equal(res.model[0].weight, _conv_net(**conv)[0].weight)


def test_loop_stage_resumed_mid_epoch_runs_every_round_of_its_epochs(tmp_path):
    # with max_epochs (as train/loop.yaml runs), a run resumed mid-epoch stopped that epoch early: a round lost
    from lightning.pytorch.callbacks import ModelCheckpoint

    from metanet.loop.lightning import LoopDataModule, LoopModule

    def parts():
        return (LoopModule(writer=None, hidden=8, message=4, candidates=2, lr=1e-2),
                LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=3, shots_min=5, shots_max=5,
                               query=10, heldout_tasks=1, seed=0))

    def trainer(d, **kw):
        return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=0, deterministic=True,
                         reload_dataloaders_every_n_epochs=1,
                         callbacks=[ModelCheckpoint(dirpath=str(d), save_last=True, every_n_train_steps=1)], **kw)

    L.seed_everything(0)
    full, data = parts()
    trainer(tmp_path / "a", max_epochs=2).fit(full, data)
    L.seed_everything(0)
    first, data = parts()
    trainer(tmp_path / "b", max_steps=4).fit(first, data)  # stopped after the first round of epoch 2
    resumed, data = parts()
    t = trainer(tmp_path / "b", max_epochs=2)
    t.fit(resumed, data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 6  # was 5
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
