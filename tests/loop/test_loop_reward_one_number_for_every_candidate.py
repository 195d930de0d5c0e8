"""A Reward whose score returns one number gives that reward to every working candidate (as a float64 (K,) tensor);
a broken candidate still gets WORST."""

from __future__ import annotations

import math

import pytest
import torch

from metanet.loop import WORST, Reward
from metanet.verify import Report


class _Constant(Reward):
    def __init__(self, value) -> None:
        self.value = value

    def score(self, reports, params):
        return self.value


@pytest.mark.parametrize("value", [0.25, torch.tensor(0.25), torch.tensor(0.25, dtype=torch.float32)])
def test_one_number_is_every_working_candidates_reward(value):
    reports = [Report(0.5, 1.0, [], 10, 0.0), Report(0.9, math.inf, [], 10, 0.0), Report(0.7, 0.2, [], 10, 0.0)]
    r = _Constant(value)(reports, {})
    assert r.dtype == torch.float64 and r.tolist() == [0.25, WORST, 0.25]
