"""refine(method="perturbation") on a user's LSTM classifier: the perturbed population's vmapped forward pass died on
a raw RuntimeError ('Batching rule not implemented for aten::lstm.input'); the population is run one network at a
time instead, and the steps change the returned copy, not the caller's network."""

from __future__ import annotations

import torch
from torch import nn

import metanet


class RowReader(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.LSTM(8, 12, batch_first=True)
        self.head = nn.Linear(12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.flatten(1, 2))  # (N, 1, 8, 8): 8 rows of 8 pixels
        return self.head(out[:, -1])


def test_perturbation_refine_runs_an_lstm_population():
    net = RowReader()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    res = metanet.refine(net, "digits", method="perturbation", steps=3, population=2, batch_size=64, seed=0)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert isinstance(res.model.rnn, nn.LSTM) and len(res.history) == 3
    assert any(not torch.equal(v, before[k]) for k, v in res.model.state_dict().items())
    again = metanet.refine(net, "digits", method="perturbation", steps=3, population=2, batch_size=64, seed=0)
    assert all(torch.equal(v, again.model.state_dict()[k]) for k, v in res.model.state_dict().items())
    assert res.after.accuracy == metanet.verify(res.model, "digits", split="val").accuracy
