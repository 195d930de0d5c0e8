"""Shared fixtures of the loop tests: small seeded loop tasks on ``digits`` and a tiny writer."""

from __future__ import annotations

import pytest
import torch

from loop_helpers import ARCH, make_diverse_writer


@pytest.fixture(scope="session")
def digits_pool():
    from metanet import tasks

    return tasks.get("digits").split("train")


@pytest.fixture(scope="session")
def loop_tasks(digits_pool):
    from metanet.loop import split_examples

    x, y = digits_pool
    return [split_examples(x, y, ARCH, shots=10, val=30, test=30, seed=s, name=f"digits-{s}") for s in range(4)]


@pytest.fixture(scope="module")
def small(digits_pool):
    """A loop task with 3 support, 5 val and 5 test examples per class."""
    from metanet.loop import split_examples

    x, y = digits_pool
    return split_examples(x, y, ARCH, shots=3, val=5, test=5, seed=0, name="small")


@pytest.fixture
def tiny_writer():
    from metanet.writer import Writer

    torch.manual_seed(0)
    return Writer(hidden=8, message=4)


@pytest.fixture
def diverse_writer():
    """A tiny writer whose first layer mixes in the candidates' random starting weights (``start_mix=1``): its K
    candidates differ and are below what it can write, so the loop has something to choose and learn."""
    return make_diverse_writer()
