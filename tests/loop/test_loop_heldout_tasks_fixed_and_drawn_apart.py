"""The Lightning loop's validation: ``LoopDataModule.val_dataloader`` gives every held-out task, all in one batch, the
same tasks on every process and whatever the step; they are episodes of the data sets' ``val`` splits, a stream of
their own (drawn from a seed apart from the training stream's, and following the data seed); and
``LoopModule.validation_step`` scores them with the same candidates every time, so the held-out figures of two
validations compare the writer, not the draw."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch

from metanet import tasks
from metanet.loop.lightning import LoopDataModule, LoopModule

HELDOUT = 8


def _data(seed: int = 0) -> LoopDataModule:
    dm = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=HELDOUT, shots_min=2, shots_max=3,
                        query=4, heldout_tasks=HELDOUT, seed=seed)
    dm.setup("fit")
    return dm


def _held(dm: LoopDataModule) -> list:
    """The held-out tasks (by index: iterating the dataset itself would never end, its stream is endless)."""
    return [dm.val_set[i] for i in range(len(dm.val_set))]


def _classes(name: str) -> str:
    """An episode name's base and class list: ``"digits[7,2]+invert"`` -> ``"digits[7,2]"``."""
    return re.match(r"[^\[]*\[[^\]]*\]", name).group(0)


def _same(a, b) -> bool:
    return a.name == b.name and all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1])
                                    for p, q in ((a.support, b.support), (a.val, b.val), (a.test, b.test)))


@pytest.fixture(scope="module")
def data() -> LoopDataModule:
    return _data()


def test_every_heldout_task_in_one_batch_the_same_on_every_process_and_step(data):
    first = None
    for step, world, rank in ((0, 1, 0), (5, 2, 0), (5, 2, 1)):
        data.trainer = SimpleNamespace(global_step=step, world_size=world, global_rank=rank, overfit_batches=0)
        batches = list(data.val_dataloader())
        assert len(batches) == 1 and len(batches[0]) == HELDOUT
        first = first or batches[0]
        assert all(_same(a, b) for a, b in zip(first, batches[0]))
    # a data module set up again (a resumed run) validates on the very same tasks
    assert all(_same(a, b) for a, b in zip(first, _held(_data())))


def test_heldout_tasks_come_from_the_val_splits(data):
    # the held-out support takes 50 examples per class, at most half of a class of the split: digits' val split
    # holds 35-37 per class (its train split over 100), so 17 or 18 each
    _, y = tasks.get("digits").split("val")
    per_class = torch.bincount(torch.as_tensor(y).long())
    for lt in _held(data):
        classes = [int(c) for c in _classes(lt.name).split("[")[1].rstrip("]").split(",")]
        want = [min(50, int(per_class[c]) // 2) for c in classes]
        assert torch.bincount(lt.support[1], minlength=len(classes)).tolist() == want, lt.name


def test_heldout_tasks_are_a_stream_of_their_own_following_the_data_seed(data):
    train = [data.train_sampler.episode(i) for i in range(HELDOUT)]
    held = _held(data)
    # drawn from a seed of their own: with the training stream's seed, held-out task i had training task i's classes
    # (both streams draw the classes first), all eight of them
    assert [_classes(lt.name) for lt in held] != [_classes(ep.name) for ep in train]
    # another data seed, other held-out tasks
    other = _held(_data(seed=1))
    assert [lt.name for lt in held] != [lt.name for lt in other]


def test_validation_scores_the_same_candidates_at_every_step(loop_tasks, monkeypatch):
    m = LoopModule(writer=None, hidden=8, message=4, candidates=3, lr=1e-2)
    logged: list[dict[str, float]] = []
    for step in (0, 7):
        monkeypatch.setattr(LoopModule, "global_step", property(lambda self, s=step: s))
        row: dict[str, float] = {}
        m.log = lambda name, value, **kw: row.__setitem__(name, float(value))  # no Trainer: capture what is logged
        m.validation_step(loop_tasks[:2], 0)
        logged.append(row)
    assert logged[0] and logged[1] == logged[0]
