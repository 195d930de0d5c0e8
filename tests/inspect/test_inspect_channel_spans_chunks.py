"""``channel_spans`` (max - min of a channel's map over every position of every example; 0 marks a constant channel
as dead in ``inspect``) runs the examples in chunks: the span must cover all of them, not only the last chunk's, so
that a channel varying only on earlier examples is not read as constant."""

from __future__ import annotations

import pytest
import torch

from metanet.inspect import measure
from metanet.inspect.netview import NetView
from metanet.nets import build


def _direct_spans(v: NetView, x: torch.Tensor) -> dict[int, torch.Tensor]:
    _, rec = v.forward(x, record=True)
    return {j: z.amax(dim=(0, 2, 3)) - z.amin(dim=(0, 2, 3)) for j, z in rec.items() if z.dim() == 4}


@pytest.mark.parametrize("chunk", [None, 300])  # one chunk; many (a few examples each)
def test_spans_cover_every_chunk_of_examples(chunk, monkeypatch):
    if chunk is not None:
        monkeypatch.setattr(measure, "CHUNK_FLOATS", chunk)
    v = NetView(build("cnn:1-4-6-10:relu:k3:s1", seed=0).eval())
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 8, 8, generator=g)
    x[20:] = 0.5  # the later examples are one constant image: their spans alone are 0 in every channel
    assert measure._batch(v, x, 1) < 20 if chunk is not None else measure._batch(v, x, 1) == len(x)
    got, want = measure.channel_spans(v, x), _direct_spans(v, x)
    assert sorted(got) == sorted(want) and len(got) == 2
    for j in want:
        assert bool((want[j] > 0).any())  # the test can fail: the first examples vary
        torch.testing.assert_close(got[j], want[j], rtol=0, atol=1e-6)
