"""improve() seeds, rewards summed with a bad part, the Lightning data's query size, activity refinement of shared
layers (round 27)."""

import numpy as np
import pytest
import torch
from torch import nn

from metanet.errors import ArchError, ConfigError
from metanet.loop import AccuracyReward, Reward, SizePenalty, improve, refine


@pytest.mark.parametrize("seed", [1.5, None, "0"])
def test_improve_seed_must_be_an_integer(tiny_writer, loop_tasks, seed):
    # 1.5 was "seed must be an integer, got 4243.5" (a derived seed), None a raw TypeError
    with pytest.raises(ConfigError, match=rf"need seed \(any integer\) \(a finite integer\), got {seed!r}"):
        improve(tiny_writer, loop_tasks[:1], rounds=1, candidates=2, seed=seed)


def test_improve_takes_a_numpy_seed(loop_tasks):
    """A numpy integer made every round skip ("an integer is required"): rounds of no tasks, no update."""
    from metanet.writer import Writer

    def run(seed):
        torch.manual_seed(0)
        return improve(Writer(hidden=8, message=4), loop_tasks[:1], rounds=1, candidates=2, seed=seed, track=False)

    w_np, h_np = run(np.int64(3))
    w_py, h_py = run(3)
    assert h_np.rounds[1]["tasks"] == 1 and "loss" in h_np.rounds[0]
    assert all(torch.equal(a, b) for a, b in zip(w_np.state_dict().values(), w_py.state_dict().values()))


class _Text(Reward):
    def score(self, reports, params):
        return "high"


def test_a_bad_part_of_a_summed_reward_is_a_config_error(loop_tasks):
    from metanet.nets import build

    net = build(loop_tasks[0].arch, seed=0)
    params = {k: v.detach()[None] for k, v in net.named_parameters()}
    from metanet.loop import score_stacked

    for reward in (AccuracyReward() + _Text(), SizePenalty() + _Text(), _Text()):
        with pytest.raises(ConfigError, match="_Text.score must return one number per candidate, got str"):
            score_stacked(loop_tasks[0].arch, 10, params, reward, loop_tasks[0].val)


def test_loop_data_needs_two_query_examples_per_class():
    from metanet.loop.lightning import LoopDataModule

    with pytest.raises(ConfigError, match="query .* must be a whole number >= 2, got 1"):
        LoopDataModule(bases=("digits",), query=1).prepare_data()


def test_activity_refinement_refuses_a_layer_applied_twice():
    """A shared layer's estimate covered only its last use: a silently wrong gradient."""
    shared = nn.Linear(64, 64)
    net = nn.Sequential(nn.Flatten(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(64, 10))
    with pytest.raises(ArchError, match="layer '1' .* applied more than once"):
        refine(net, "digits", method="activity", steps=1, population=2, verify_on=None)
    refine(net, "digits", method="perturbation", steps=1, population=2, verify_on=None)  # the other methods work
