"""Helpers of the writer tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import pytest
import torch

from metanet.checkpoints import shipped

SHIPPED = shipped("writer")
needs_shipped = pytest.mark.skipif(
    not SHIPPED.is_file(),
    reason=f"no shipped writer checkpoint at {SHIPPED} yet (the meta-trained writer is copied there when training ends)",
)


def digits_val_episode():
    """The one validation episode of a small digits EpisodeDataModule (5-10 shots, 5 query examples, seed 0)."""
    from metanet.writer.lightning import EpisodeDataModule

    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=1, seed=0)
    d.prepare_data()
    d.setup("fit")
    return next(iter(d.val_dataloader().dataset))


def solve_with_threads(a: torch.Tensor, b: torch.Tensor, threads: int) -> torch.Tensor:
    """``metanet.writer.solvers.solve(a, b)`` under ``threads`` torch threads (1: one batched solve; more: one system
    at a time), the caller's thread count restored."""
    from metanet.writer.solvers import solve

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return solve(a, b)
    finally:
        torch.set_num_threads(before)
