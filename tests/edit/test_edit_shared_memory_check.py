"""The inplace=True check for tensors that share memory (edit.edits._shared_memory): exact for every strided layout,
and without listing the offsets of a tensor whose strides show they are distinct (a transposed 4096 x 4096 weight
took 5 s and 0.7 GB before any edit ran)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.edit.edits import _shared_memory


def _with(t: torch.Tensor) -> nn.Module:
    m = nn.Module()
    m.register_buffer("t", t)
    return m


@pytest.mark.parametrize("make, overlaps", [
    (lambda: torch.zeros(6, 4).t(), False),
    (lambda: torch.zeros(8, 8)[::2, 1::3], False),
    (lambda: torch.zeros(2, 3, 4).permute(2, 0, 1), False),
    (lambda: torch.zeros(3, 1).expand(3, 4), True),
    (lambda: torch.zeros(20).as_strided((3, 2), (2, 3)), False),  # offsets 0 3 2 5 4 7: interleaved, distinct
    (lambda: torch.zeros(20).as_strided((3, 3), (2, 4)), True),  # 0 4 8 2 6 10 4 ...: 4 twice
    (lambda: torch.zeros(20).as_strided((4, 2), (1, 2)), True),  # 0 2 1 3 2 4 3 5
])
def test_overlapping_elements_are_found_exactly(make, overlaps):
    found = _shared_memory(_with(make()))
    assert (found is not None) == overlaps, found
    if overlaps:
        assert "overlap in memory" in found


def test_a_large_transposed_weight_is_checked_without_listing_its_offsets(monkeypatch):
    m = _with(torch.zeros(4096, 4096, dtype=torch.uint8).t())
    listed = []
    arange = torch.arange
    # the work counted, not timed: listing the 16.8 million offsets built them with torch.arange, one per dimension
    monkeypatch.setattr(torch, "arange", lambda *a, **k: listed.append(a) or arange(*a, **k))
    assert _shared_memory(m) is None
    assert listed == []
