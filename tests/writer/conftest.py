"""Shared fixtures of the writer tests: small tasks (sklearn digits, 8x8) and writers."""

from __future__ import annotations

import pytest

from writer_helpers import SHIPPED



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
