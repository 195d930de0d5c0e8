"""Seeds checked up front across the loop (evaluate, choose, loop tasks, folds), SizePenalty with BatchNorm
(round 27b)."""

import numpy as np
import pytest
import torch
from torch import nn

from metanet.errors import ConfigError
from metanet.loop import (SizePenalty, as_loop_tasks, choose, evaluate, fold_ids, from_task, split_examples)
from metanet.verify import Report

ARCH = "mlp:64-16-10:relu"  # as the loop tests' conftest

BAD = [1.5, None, True, "3"]


@pytest.mark.parametrize("seed", BAD)
def test_evaluate_and_choose_check_the_seed_as_improve_does(tiny_writer, loop_tasks, seed):
    # 1.5 was the writer's TaskError ("seed must be an integer"), None a raw TypeError, "3" a raw TypeError
    match = rf"need seed \(any integer\) \(a finite integer\), got {seed!r}"
    with pytest.raises(ConfigError, match=match):
        evaluate(tiny_writer, loop_tasks[:1], candidates=2, seed=seed)
    with pytest.raises(ConfigError, match=match):
        choose(tiny_writer, loop_tasks[0], candidates=2, seed=seed)


@pytest.mark.parametrize("seed", BAD)
def test_loop_tasks_check_the_seed(digits_pool, seed):
    # as_loop_tasks / from_task: 1.5 was a raw RuntimeError from manual_seed, None a raw TypeError, True accepted
    x, y = digits_pool
    with pytest.raises(ConfigError, match="need seed"):
        as_loop_tasks("digits", seed=seed)
    with pytest.raises(ConfigError, match="need seed"):
        from_task("digits", seed=seed)
    with pytest.raises(ConfigError, match="need seed"):
        split_examples(x, y, ARCH, shots=2, val=2, seed=seed)


def test_a_numpy_seed_is_any_integer(tiny_writer, loop_tasks):
    """choose(seed=np.int64(3)) on a task name was an OverflowError; the same seed as a Python int gives the same."""
    a = choose(tiny_writer, "digits", candidates=2, seed=np.int64(3))
    b = choose(tiny_writer, "digits", candidates=2, seed=3)
    assert a.index == b.index and torch.equal(a.rewards, b.rewards)


def test_cross_fitting_takes_any_integer_seed(loop_tasks):
    # evaluate(selection="crossfit", seed=2**70) was a raw ValueError from the folds' generator
    y = loop_tasks[0].val[1]
    assert torch.equal(fold_ids(y, 10, 3, seed=2**70), fold_ids(y, 10, 3, seed=2**70 % 2**64))
    assert torch.equal(fold_ids(y, 10, 3, seed=-1), fold_ids(y, 10, 3, seed=2**64 - 1))  # as torch wraps it


def _stacked(nets: list[nn.Module]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([dict(n.named_parameters())[k].detach() for n in nets]) for k, _ in nets[0].named_parameters()}


def test_size_penalty_does_not_count_batchnorm_scales():
    """A BatchNorm's weight (its per-channel scale) was counted as connections: two networks with the same
    connections but different BN scales got different penalties, and the fraction was diluted by the scales."""
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    b = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        b[1].weight[:4] = 0.0  # half the scales zero: no connection less
        a[0].weight[0] = 0.0  # 4 of the 56 connections zero
    reports = [Report(0.5, 1.0, [], 10, 0.0)] * 2
    r = SizePenalty(1.0)(reports, _stacked([a, b]))
    assert r.tolist() == pytest.approx([-52 / 56, -1.0])
