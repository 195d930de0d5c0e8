"""verify() on a user's recurrent classifier (nn.LSTM / nn.GRU / nn.RNN reading an 8x8 digit as 8 rows of 8): torch's
vmap has no batching rule for these layers, and the vectorised pass died on a raw RuntimeError ('Batching rule not
implemented for aten::lstm.input'). Such networks are run one at a time and scored as the network scores itself."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet


class RowReader(nn.Module):
    def __init__(self, kind: str, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = getattr(nn, kind)(8, 12, batch_first=True)
        self.head = nn.Linear(12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.flatten(1, 2))  # (N, 1, 8, 8): 8 rows of 8 pixels
        return self.head(out[:, -1])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_networks_are_verified_as_they_score_themselves(kind):
    nets = [RowReader(kind, 0), RowReader(kind, 1)]
    x, y = metanet.tasks.resolve("digits").split("test")
    want = []
    for net in nets:
        with torch.no_grad():
            logits = net(x)
        want.append(((logits.argmax(1) == y).double().mean().item(), nn.functional.cross_entropy(logits, y).item()))
    assert want[0] != want[1]  # each network is scored on its own weights
    got = [(r.accuracy, r.loss) for r in metanet.verify(nets, "digits")]
    assert got == [pytest.approx(w, rel=1e-5) for w in want]
    one = metanet.verify(nets[1], "digits", batch_size=100)  # several batches, each run one network at a time
    assert (one.accuracy, one.loss) == pytest.approx(want[1], rel=1e-5)
