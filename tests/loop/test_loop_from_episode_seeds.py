"""``from_episode`` cuts an episode's query into val and test with a seeded draw: the same seed gives the same cut (a
resumed or repeated run sees the same task), another seed another cut, any integer a seed (read modulo 2**64, as
torch reads it); ``as_loop_tasks`` gives task ``i`` of a list the seed ``seed + i``."""

from __future__ import annotations

import torch

from metanet.loop import as_loop_tasks, from_episode
from metanet.nets import Arch
from metanet.writer.episodes import Episode


def _episode() -> Episode:
    g = torch.Generator().manual_seed(0)
    support = (torch.randn(4, 4, generator=g), torch.tensor([0, 1, 0, 1]))
    query = (torch.randn(20, 4, generator=g), torch.arange(20) % 2)  # 10 query examples per class
    return Episode("e", Arch.coerce("mlp:4-8-2:relu"), support, query)


def _val(lt) -> list[int]:
    return lt.index["val"]["query"].tolist()


def test_the_same_seed_cuts_the_same_way_another_seed_another():
    ep = _episode()
    assert _val(from_episode(ep, seed=3)) == _val(from_episode(ep, seed=3))
    assert len({tuple(_val(from_episode(ep, seed=s))) for s in range(4)}) == 4


def test_any_integer_is_a_seed_read_modulo_2_64():
    ep = _episode()
    assert _val(from_episode(ep, seed=2**64 + 5)) == _val(from_episode(ep, seed=5))
    assert _val(from_episode(ep, seed=-1)) == _val(from_episode(ep, seed=2**64 - 1))


def test_each_episode_of_a_list_gets_its_own_seed():
    ep = _episode()
    a, b = as_loop_tasks([ep, ep], seed=7)
    assert _val(a) == _val(from_episode(ep, seed=7)) and _val(b) == _val(from_episode(ep, seed=8))
    assert _val(a) != _val(b)
