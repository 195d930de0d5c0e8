"""Neural-graph tests run single-threaded: the networks are tiny, and on a busy machine intra-op threads only add
contention (tens of milliseconds per small conv)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
