"""Round 28: loading a reader leaves torch's global RNG alone and gives the same weights every time."""

from __future__ import annotations

import torch

from metanet.reader import Reader


def _saved(tmp_path):
    path = tmp_path / "my reader.safetensors"  # a path with a space
    Reader(tasks=["digits"], hidden=8, layers=1, probes=2, probe_inputs=(64,)).save(path)
    return path


def test_loading_a_reader_does_not_draw_from_the_global_rng(tmp_path):
    path = _saved(tmp_path)
    torch.manual_seed(0)
    want = torch.rand(3)
    torch.manual_seed(0)
    a = Reader.load(path)
    got = torch.rand(3)
    assert torch.equal(got, want)  # was another stream: the build's throwaway init consumed it
    b = Reader.load(path)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
