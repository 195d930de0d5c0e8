"""EpisodeSampler edge cases (metanet.writer.episodes)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from metanet.writer.episodes import EpisodeSampler


def test_min_classes_above_a_data_sets_classes_takes_all_of_them():
    # documented as "at most all of the data set's classes"; used to raise torch's "random_ expects 'from' ..."
    e = EpisodeSampler(("digits",), min_classes=20, shots=(5, 5), query=2, seed=0).episode(0)
    assert sorted(e.support[1].unique().tolist()) == list(range(10))
    assert e.arch.num_classes == 10


def test_dataloader_workers_share_the_episodes_instead_of_repeating_them():
    sampler = EpisodeSampler(("digits",), shots=(5, 10), query=2, seed=4, length=5)
    want = [sampler.episode(i).name for i in range(5)]
    loader = DataLoader(sampler, batch_size=None, num_workers=2)
    got = [e.name for e in loader]
    assert got == want  # every worker used to yield the whole stream: 10 episodes, each twice
    assert [e.name for e in sampler] == want  # in the main process: unchanged


def test_a_pickled_sampler_leaves_its_data_cache_behind_and_gives_the_same_episodes():
    import pickle

    sampler = EpisodeSampler(("digits",), shots=(5, 10), query=2, seed=2, length=3)
    first = sampler.episode(1)  # fills the per-data-set cache
    # spawned DataLoader workers get the sampler pickled: it used to carry every cached split along
    blob = pickle.dumps(sampler)
    assert len(blob) < 10_000
    again = pickle.loads(blob).episode(1)
    assert again.name == first.name and torch.equal(again.support[0], first.support[0])
    assert sampler.episode(1).name == first.name  # the original keeps its cache
