"""Shared fixtures of the reader tests."""

from __future__ import annotations

import pytest
import torch

from metanet.reader import Reader


@pytest.fixture(scope="module")
def small_reader():
    # an untrained digits + mnist reader, seeded: one per test module (the tests of read() share it)
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=8, layers=1).eval()


@pytest.fixture(scope="session")
def tiny_graphs(tiny_zoo):
    """Train / val graphs of the tiny zoo's digits networks (64 inputs: small graphs), with targets."""
    from metanet.reader.data import zoo_graphs

    tasks = ["digits", "fashion-mnist", "mnist"]
    out = {}
    for split in ("train", "val"):
        gs = zoo_graphs(tiny_zoo, split, tasks)
        out[split] = [g for g in gs if int(g.x.shape[0]) < 200]  # the digits (8x8 input) networks
    return out


@pytest.fixture(scope="module")
def scan_reader():
    """A small untrained digits + mnist reader with labelled probes and a (zero, but fitted) scan head."""
    import torch

    from metanet.reader import Reader

    torch.manual_seed(0)
    r = Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2)
    r = r.fill_data_probes("val").eval()
    with torch.no_grad():
        r.scan_fitted.fill_(True)
    return r
