"""`metanet.generate` passes its ``seed`` on to the draw of the support set: which examples of each class the writer
reads depends on the seed (a fixed draw gave every seed the same support examples)."""

from __future__ import annotations

import torch

import metanet
from metanet.writer.generate import support_set


def test_the_writer_reads_the_support_set_drawn_with_the_seed(trained, digits, monkeypatch):
    seen = []
    write = trained.write

    def spy(arch, x, y, *args, **kwargs):
        seen.append((x, y))
        return write(arch, x, y, *args, **kwargs)

    monkeypatch.setattr(trained, "write", spy)
    for seed in (3, 4):
        metanet.generate(digits, candidates=1, seed=seed, shots=2, writer=trained)
    for (x, y), seed in zip(seen, (3, 4)):
        sx, sy = support_set(digits, 2, seed)
        assert torch.equal(x, sx) and torch.equal(y, sy)
    assert not torch.equal(seen[0][0], seen[1][0])  # the two seeds drew different examples
