"""Episodes round 27b: what an episode's name and meta say about it."""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError
from metanet.writer.episodes import EpisodeSampler


def _sampler(**kw) -> EpisodeSampler:
    return EpisodeSampler(("digits",), shots=(3, 5), query=4, seed=11, **kw)


def test_an_episode_is_written_again_from_its_meta():
    # a '+permute' name has no seed (the permutation is the episode's own draw): meta says how to get it back
    ep = _sampler(p_permute=1.0).episode(6)
    again = EpisodeSampler(("digits",), shots=(3, 5), query=4, seed=ep.meta["seed"], p_permute=1.0)
    ep2 = again.episode(ep.meta["index"])
    assert ep2.name == ep.name and ep2.arch == ep.arch
    assert all(torch.equal(a, b) for a, b in zip(ep.support + ep.query, ep2.support + ep2.query))


def test_names_are_task_grammar_except_a_seedless_permute():
    s = _sampler(p_permute=0.0, p_invert=0.5)
    for i in range(6):
        ep = s.episode(i)
        task = tasks.get(ep.name)  # base[classes in label order](+invert): the same labels and pixels
        x, y = task.split("train")
        for xi, yi in zip(*ep.support):
            hit = (x - xi).flatten(1).abs().amax(1) == 0
            assert bool(hit.any()) and set(y[hit].tolist()) == {int(yi)}, ep.name
    ep = _sampler(p_permute=1.0).episode(0)
    assert ep.name.endswith("+permute") or "+permute+" in ep.name
    with pytest.raises(TaskError, match="permute needs a non-negative integer seed"):
        tasks.get(ep.name)
