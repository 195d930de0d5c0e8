"""generate's warning about a chosen network that predicts one class everywhere counts predictions as verify does:
a network whose logits are NaN or infinite on every validation example predicts nothing (verify scores it 0), and is
named as such; argmax had called it "a constant classifier" of class 0."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from metanet.writer.generate import _warn_if_constant


def _net(bad: float | None) -> nn.Module:
    torch.manual_seed(0)
    m = nn.Linear(4, 3)
    if bad is not None:
        with torch.no_grad():
            m.weight[1, 0] = bad  # one output NaN/inf: every row of logits holds it
    return m


def _val() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(30, 4, generator=g) + 0.1, torch.arange(30) % 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_network_of_non_finite_logits_is_named_so_not_a_class(bad: float) -> None:
    with pytest.warns(UserWarning, match="NaN or infinite logits on every validation example") as rec:
        _warn_if_constant(_net(bad), _val(), "toy", 2)
    text = " ".join(str(w.message) for w in rec)
    assert "predicts class" not in text and "candidate 2" in text


def test_a_constant_class_is_still_named() -> None:
    m = _net(None)
    with torch.no_grad():
        m.weight.zero_()
        m.bias.copy_(torch.tensor([0.0, 5.0, 0.0]))
    with pytest.warns(UserWarning, match="predicts class 1 on every validation example"):
        _warn_if_constant(m, _val(), "toy", 0)


def test_a_network_of_two_classes_is_not_warned_about() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = _net(None)
        with torch.no_grad():
            m.weight.zero_()
            m.weight[0, 0] = 1.0
            m.bias.copy_(torch.tensor([0.0, 0.0, 0.5]))
        _warn_if_constant(m, _val(), "toy", 0)  # class 0 where x0 > 0.5, else class 2
