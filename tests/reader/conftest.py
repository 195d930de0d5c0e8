"""Shared fixtures of the reader tests."""

from __future__ import annotations

import pytest



@pytest.fixture(scope="session")
def tiny_graphs():
    """Train / val graphs of the tiny zoo's digits networks (64 inputs: small graphs), with targets."""
    from reader_helpers import TINY, needs_tiny  # noqa: F401

    if not (TINY / "index.sqlite").is_file():
        pytest.skip(f"no tiny zoo at {TINY}")
    from metanet.reader.data import zoo_graphs

    tasks = ["digits", "fashion-mnist", "mnist"]
    out = {}
    for split in ("train", "val"):
        gs = zoo_graphs(TINY, split, tasks)
        out[split] = [g for g in gs if int(g.x.shape[0]) < 200]  # the digits (8x8 input) networks
    return out
