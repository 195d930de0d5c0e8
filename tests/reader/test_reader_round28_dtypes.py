"""Round 28: a float64 network reads exactly as its float32 copy (same values, same readings)."""

from __future__ import annotations

import copy

import pytest
import torch

import metanet
from metanet.graph import to_graph
from metanet.reader import Reader


@pytest.mark.parametrize("arch", ["mlp:784-32-10:relu", "mlp:64-16-16-10:tanh:skip"])
def test_a_float64_network_reads_bit_identically_to_its_float32_copy(arch):
    torch.manual_seed(0)
    reader = Reader(tasks=["mnist", "digits"], hidden=8, layers=1, probes=2).eval()
    m32 = metanet.nets.build(arch, seed=0)
    g32, g64 = to_graph(m32), to_graph(copy.deepcopy(m32).double())
    assert g64.x.dtype == torch.float64
    # the bias statistics summed a strided float32 view of one and a contiguous copy of the other: ulps apart
    assert torch.equal(reader.weight_stats(g32), reader.weight_stats(g64))
    with torch.no_grad():
        a, b = reader(g32), reader(g64)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert metanet.read(m32, reader=reader) == metanet.read(copy.deepcopy(m32).double(), reader=reader)
