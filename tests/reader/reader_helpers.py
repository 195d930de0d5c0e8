"""Helpers of the reader tests (imported by name: pytest puts this folder on sys.path): the shipped reader's
checkpoint and documented error, a small untrained reader, and graphs straight from to_graph."""

from __future__ import annotations


import pytest
import torch

from metanet.checkpoints import shipped
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader

SHIPPED = shipped("reader")
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"no shipped reader checkpoint at {SHIPPED} yet")
#: documented error of the shipped reader's accuracy head on freshly trained mnist MLPs (README, "reader")
SHIPPED_MAX_ABS_ERROR = 0.12


def tiny_reader(**kw) -> Reader:
    """A seeded, untrained digits + mnist reader (8 wide, one layer, two probes), in eval mode."""
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, **kw).eval()


def fresh_graphs() -> list:
    """Graphs straight from to_graph: no targets, no w_stats cache, their own edge widths (MLP 1, CNN 9)."""
    return [to_graph(build("mlp:64-16-10:relu", seed=1)), to_graph(build("cnn:1-4-8-10:relu", seed=2))]
