"""verify scores an example whose logits hold a NaN or an infinity as wrong: such a row predicts nothing. argmax
took NaN for the largest value, so an all-NaN network was "right" on every example of class 0."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.nets import build


class _Flagged(nn.Module):
    """Inputs (N, 4): three logits and a flag: 1 makes the row NaN, 0.5 puts +inf into class 0's logit."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, flag = x[:, :3], x[:, 3:]
        logits = logits.masked_fill(flag == 1, math.nan)
        inf0 = (flag == 0.5) & (torch.arange(3) == 0)
        return logits.masked_fill(inf0, math.inf)


def test_rows_with_nan_or_inf_logits_are_wrong_for_accuracy_and_per_class():
    x = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0.5], [0, 0, 1, 0]])
    y = torch.tensor([0, 1, 1, 0, 0, 2])
    t = tasks.from_examples(x, y, val_fraction=0, test_fraction=0)
    r = metanet.verify(_Flagged(), t, split="train")
    # argmax said class 0 for the NaN row and the +inf row: 5/6 and class 0 at 3/3
    assert r.accuracy == 0.5
    assert r.per_class == pytest.approx([1 / 3, 1 / 2, 1.0], abs=0)
    assert r.loss == math.inf  # the loss is kept as documented


def test_an_all_nan_network_is_right_on_no_class():
    m = build("mlp:64-16-10:relu", seed=0)
    with torch.no_grad():
        m.layers[0].weight[3, 5] = math.nan  # hidden neuron 3 outputs NaN: every logit NaN
    r = metanet.verify(m, "digits")
    assert r.accuracy == 0.0 and r.per_class == [0.0] * 10  # was class 0's share, and per_class[0] == 1.0
    assert r.loss == math.inf


def test_a_network_whose_logits_overflow_is_right_on_no_example():
    m = build("mlp:64-16-10:relu", seed=0)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1e30)  # finite weights, logits of +-inf (argmax picked the first +inf of each row)
    logits = m(tasks.resolve("digits").split("test")[0])
    assert not torch.isfinite(logits).all(1).any()
    r = metanet.verify(m, "digits")
    assert r.accuracy == 0.0 and r.per_class == [0.0] * 10 and r.loss == math.inf
