"""Round 28: the trigger scan's options are checked, not bent into something else."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metanet
from metanet.errors import ConfigError
from metanet.graph import to_graph
from metanet.reader import Reader
from metanet.reader.scan import scan_features


@pytest.fixture(scope="module")
def reader_and_graph():
    torch.manual_seed(0)
    reader = Reader(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=16).fill_data_probes().eval()
    return reader, to_graph(metanet.nets.build("mlp:64-8-10:relu", seed=0))


@pytest.mark.parametrize("kw", [dict(steps=0), dict(steps=2.7), dict(steps=True), dict(images=-1), dict(images=0),
                                dict(images=1.5), dict(steps=1, images=-1)])
def test_bad_scan_options_are_config_errors(reader_and_graph, kw):
    reader, g = reader_and_graph
    # steps=0 ran 300 steps, 2.7 ran 2, images=-1 scanned all images but the last: all silently
    with pytest.raises(ConfigError, match="must be a whole number >= 1"):
        scan_features(reader, g, **kw)


def test_numpy_whole_numbers_are_the_same_options(reader_and_graph):
    reader, g = reader_and_graph
    a = scan_features(reader, g, steps=2, images=8, batch=4)
    b = scan_features(reader, g, steps=np.int64(2), images=np.int64(8), batch=4)
    assert a.shape == (1, 4) and torch.equal(a, b)
