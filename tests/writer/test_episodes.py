"""Episodes (metanet.writer.episodes): make_episode's relabelling and the classes and sizes it refuses (a small class's
support is at most half of it); EpisodeSampler edge cases (shots, one drawn at the bottom of its range among them,
seeds, episode indices, CNN episodes), determinism and pickling; an episode's name is task grammar (except a seedless
permute) and its meta writes it again."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch.utils.data import DataLoader

from metanet import tasks
from metanet.errors import ConfigError, TaskError
from metanet.writer.episodes import EpisodeSampler, make_episode


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


@pytest.mark.parametrize("shots, query", [(0, 3), (-1, 3), (2, 0), (2, -1), (1.5, 3)])
def test_make_episode_refuses_empty_or_negative_sizes(shots, query):
    # shots=0 gave an empty support, shots=-1 all but one example of each class, query=0 an empty query; 1.5 a
    # TypeError from slicing
    x, y = torch.rand(20, 4), torch.arange(20) % 2
    with pytest.raises(TaskError, match="must be a whole number >= 1"):
        make_episode(x, y, [0, 1], shots, query, torch.Generator().manual_seed(0))


def test_make_episode_reads_classes_given_as_a_tensor_as_integers():
    # a tensor's 0-d elements named the episode "[tensor(1),tensor(0)]" and set() did not see a repeated class
    x, y = torch.rand(20, 4), torch.arange(20) % 2
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    (sx, sy), _, name = make_episode(x, y, torch.tensor([1, 0]), 2, 3, g(), name="toy")
    assert name == "toy[1,0]"
    (rx, ry), _, _ = make_episode(x, y, [1, 0], 2, 3, g(), name="toy")
    assert torch.equal(sx, rx) and torch.equal(sy, ry)
    with pytest.raises(TaskError, match="distinct classes"):
        make_episode(x, y, torch.tensor([0, 0]), 2, 3, g())
    with pytest.raises(TaskError, match="integer labels"):
        make_episode(x, y, [0.5, 1], 2, 3, g())


@pytest.mark.parametrize("index", [1.0, "1", torch.tensor(1.0)])
def test_episode_index_must_be_an_integer(index):
    # 1.0 was "manual_seed expected a long, but got float", "1" a TypeError
    s = EpisodeSampler(bases=["digits"], seed=0, length=2)
    with pytest.raises(TaskError, match="episode index is an integer"):
        s.episode(index)


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


def _toy():
    x = torch.arange(20, dtype=torch.float32).view(10, 2)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 3])
    return x, y


def test_make_episode_relabels_and_keeps_support_and_query_disjoint():
    x, y = _toy()
    (sx, sy), (qx, qy), spec = make_episode(x, y, [1, 0], 2, 5, torch.Generator().manual_seed(0), name="toy")
    assert spec == "toy[1,0]" and sy.tolist() == [0, 0, 1, 1] and qy.tolist() == [0, 0, 1, 1]
    rows = lambda t: {tuple(r) for r in t.tolist()}  # noqa: E731
    assert not rows(sx) & rows(qx)
    # relabelled: new label 0 is old class 1
    old = {tuple(r): int(c) for r, c in zip(x.tolist(), y)}
    assert {old[r] for r in rows(sx[sy == 0])} == {1}


@pytest.mark.parametrize("classes, match", [
    ([0, 0], "distinct classes"),  # used to put the same images in the support of one label and the query of another
    ([], "distinct classes"),  # used to be torch.cat's "expected a non-empty list of Tensors"
    ([0, 2], r"at least 2 examples .*\{2: 1\}"),  # class 2 used to be missing from the support
    ([0, 7], r"at least 2 examples .*\{7: 0\}"),  # an absent class used to give an episode without it
])
def test_make_episode_refuses_classes_it_cannot_split(classes, match):
    x, y = _toy()
    with pytest.raises(TaskError, match=match):
        make_episode(x, y, classes, 2, 5, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("shots", [5, (1, 2, 3), "10"])
def test_episode_shots_must_be_a_pair(shots):
    with pytest.raises(ConfigError, match="episode shots must be a pair"):
        EpisodeSampler(("digits",), shots=shots)


@pytest.mark.parametrize("seed", [0.5, "0", True])
def test_episode_seed_must_be_an_integer(seed):
    with pytest.raises(ConfigError, match="episode seed must be an integer"):
        EpisodeSampler(("digits",), seed=seed)


def test_large_seeds_give_episodes_and_small_ones_are_unchanged():
    # seed_everything accepts 2**32 - 1; the data module's seed * 7919 * 1_000_003 overflowed torch's manual_seed
    kw = dict(shots=(5, 5), query=2, p_permute=0.0, p_invert=0.0)
    big = EpisodeSampler(("digits",), seed=(2**32 - 1) * 7919, **kw)
    assert big.episode(0).support[0].shape[0] >= 10
    e = EpisodeSampler(("digits",), seed=-3, **kw).episode(1)  # negative seeds: the episode they always gave
    assert (e.name, float(e.support[0].sum()), str(e.arch)) == ("digits[2,9,8,3]", 400.0, "mlp:64-128-4:sigmoid")


def test_cnn_prob_one_writes_cnns_only_for_image_data():
    s = EpisodeSampler(("digits", "mnist1d"), shots=(5, 5), query=2, cnn_prob=1.0, p_permute=0.0, seed=1)
    seen = set()
    for i in range(8):
        e = s.episode(i)
        seen.add(e.meta["base"])
        assert e.arch.family == ("cnn" if e.meta["base"] == "digits" else "mlp"), (e.name, e.arch)
        assert e.arch.fits(tuple(e.support[0].shape[1:]))
    assert seen == {"digits", "mnist1d"}


def test_episodes_are_deterministic_and_survive_pickling():
    s = EpisodeSampler(("digits",), shots=(3, 8), query=4, seed=7, length=3)
    a = [s.episode(i) for i in range(3)]
    b = [pickle.loads(pickle.dumps(s)).episode(i) for i in range(3)]
    for e, f in zip(a, b):
        assert e.name == f.name and str(e.arch) == str(f.arch)
        assert all(torch.equal(u, v) for u, v in zip(e.support + e.query, f.support + f.query))
        k = e.arch.num_classes
        assert sorted(e.support[1].unique().tolist()) == list(range(k))
        assert torch.bincount(e.query[1], minlength=k).tolist() == [4] * k


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
