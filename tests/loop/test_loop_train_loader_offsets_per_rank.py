"""``LoopDataModule.train_dataloader`` under DDP: each process draws tasks of its own every round (process k of round r
gets tasks ``(r * tasks_per_round + j) * world + k``), so a round of W processes takes ``W * tasks_per_round``
different tasks and the next round goes on from there; each task cuts its query with its own seed (its index).

No processes are spawned: a stand-in trainer carries the global step, rank and world size the loader reads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from metanet.loop.lightning import LoopDataModule
from metanet.nets import Arch
from metanet.writer.episodes import Episode

T, ROUNDS = 2, 3  # tasks per round, rounds per epoch


class _Stream:
    """A stand-in episode sampler: episode ``j`` is named ``"j"``; every episode holds the same examples (10 query
    examples of each of 2 classes), so only the seed a task is cut with tells two tasks' val / test apart."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.support = (torch.randn(4, 4, generator=g), torch.tensor([0, 1, 0, 1]))
        self.query = (torch.randn(20, 4, generator=g), torch.arange(20) % 2)

    def episode(self, j: int) -> Episode:
        return Episode(str(j), Arch.coerce("mlp:4-8-2:relu"), self.support, self.query)


def _data(step: int, world: int, rank: int) -> LoopDataModule:
    dm = LoopDataModule(bases=("digits",), tasks_per_round=T, rounds_per_epoch=ROUNDS, seed=0)
    dm.train_sampler = _Stream()
    dm.trainer = SimpleNamespace(global_step=step, world_size=world, global_rank=rank, overfit_batches=0)
    return dm


def _round(step: int, world: int, rank: int) -> list[int]:
    """The task indices process ``rank`` trains on in round ``step`` (its loader's first batch)."""
    return [int(lt.name) for lt in next(iter(_data(step, world, rank).train_dataloader()))]


@pytest.mark.parametrize("world", [2, 3])
def test_every_process_draws_tasks_of_its_own_and_rounds_go_on_from_the_last(world):
    rounds = {(s, k): _round(s, world, k) for s in range(ROUNDS) for k in range(world)}
    for (s, k), got in rounds.items():
        assert got == [(s * T + j) * world + k for j in range(T)], (s, k)
    # every task of the first ROUNDS rounds drawn by exactly one process, once: none twice, none skipped
    drawn = sorted(i for got in rounds.values() for i in got)
    assert drawn == list(range(ROUNDS * T * world))


def test_a_process_loader_holds_its_rounds_of_the_epoch_in_order():
    dm = _data(step=1, world=2, rank=1)
    batches = [[int(lt.name) for lt in b] for b in dm.train_dataloader()]
    # from round 1 (the global step) on, an epoch's worth of rounds: this process's half of each
    assert batches == [[(r * T + j) * 2 + 1 for j in range(T)] for r in range(1, 1 + ROUNDS)]


def test_one_process_takes_the_rounds_tasks_in_a_row():
    assert [_round(s, 1, 0) for s in range(ROUNDS)] == [[s * T + j for j in range(T)] for s in range(ROUNDS)]


def test_each_task_cuts_its_query_with_its_own_seed():
    # the same examples at two indices of the stream: their val / test halves differ (a seed shared by every task
    # cut every such episode at the same places), and the same index always gives the same task (a resumed run)
    a, b = next(iter(_data(0, 1, 0).train_dataloader()))
    again = next(iter(_data(0, 1, 0).train_dataloader()))[0]
    assert not torch.equal(a.index["val"]["query"], b.index["val"]["query"])
    assert torch.equal(a.index["val"]["query"], again.index["val"]["query"])
    assert torch.equal(a.val[0], again.val[0]) and torch.equal(a.test[0], again.test[0])
