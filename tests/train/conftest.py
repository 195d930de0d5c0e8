"""Fixtures shared by the training-stage tests."""

from __future__ import annotations

import pytest

from metanet.reader.lightning import ReaderDataModule


@pytest.fixture(scope="module")
def tiny_data(tiny_zoo):
    """A reader data module on 24 networks of the tiny zoo, batches of 8: 3 batches an epoch."""
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=24, role_examples=64)
    dm.setup("fit")
    assert len(dm.train_graphs) == 24  # 3 batches an epoch
    return dm
