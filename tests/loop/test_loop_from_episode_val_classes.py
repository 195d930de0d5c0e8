"""`from_episode` halves each class's query examples into val and test; a class with a single query example puts it
in val, so the rewards (computed on val) see every class of the episode."""

from __future__ import annotations

import torch

from metanet.loop import from_episode
from metanet.nets import Arch
from metanet.writer.episodes import Episode


def test_a_class_with_one_query_example_is_in_val():
    g = torch.Generator().manual_seed(0)
    support = (torch.randn(4, 4, generator=g), torch.tensor([0, 1, 0, 1]))
    query = (torch.randn(5, 4, generator=g), torch.tensor([0, 0, 0, 0, 1]))  # class 1: one query example
    lt = from_episode(Episode("e", Arch.coerce("mlp:4-8-2:relu"), support, query), seed=0)
    assert torch.bincount(lt.val[1], minlength=2).tolist() == [2, 1]
    assert lt.test is not None and torch.bincount(lt.test[1], minlength=2).tolist() == [2, 0]
