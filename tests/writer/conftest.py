"""Shared fixtures of the writer tests: small tasks (sklearn digits, 8x8) and writers."""

from __future__ import annotations

import pytest
import torch

from writer_helpers import SHIPPED


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def untrained():
    from metanet.writer import Writer

    return Writer().eval()


@pytest.fixture(scope="session")
def trained():
    from metanet.writer import Writer

    if not SHIPPED.is_file():
        pytest.skip(f"no shipped writer checkpoint at {SHIPPED} yet")
    return Writer.load().eval()


@pytest.fixture(scope="session")
def digits():
    from metanet import tasks

    return tasks.get("digits")
