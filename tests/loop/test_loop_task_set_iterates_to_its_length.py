"""The loop's task sets (``LoopDataModule``'s train and held-out ``_Tasks``) end at their length when iterated or
indexed themselves, as a map-style Dataset does: their episodes come from an endless sampler, so ``list(dm.val_set)``
never ended (a DataLoader, which indexes through a sampler, was not affected)."""

from __future__ import annotations

import itertools

import pytest

from metanet.loop.lightning import _Tasks


class _Stream:
    """An endless stand-in episode stream: episode ``j`` is ``j``."""

    def episode(self, j: int) -> int:
        return j


def test_iterating_a_task_set_ends_at_its_length(monkeypatch):
    monkeypatch.setattr("metanet.loop.lightning.from_episode", lambda episode, seed: (episode, seed))
    tasks = _Tasks(_Stream(), 3, offset=10)
    assert list(itertools.islice(tasks, 5)) == [(10, 10), (11, 11), (12, 12)]  # (islice: a failure ends too)
    assert tasks[2] == (12, 12)
    for i in (3, -1):
        with pytest.raises(IndexError, match=r"loop task .* out of range 0\.\.2"):
            tasks[i]
