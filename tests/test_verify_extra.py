"""verify() on networks without parameters, and on lists whose models differ only in a layer's settings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import tasks, verify
from metanet.errors import ArchError


class Prototypes(nn.Module):
    """A nearest-prototype classifier: no parameters, its class prototypes are buffers."""

    def __init__(self, protos: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("protos", protos)

    def forward(self, x):
        return -torch.cdist(x.flatten(1), self.protos)


def _pooled():
    return nn.Sequential(nn.Flatten(), nn.AdaptiveAvgPool1d(10))


def test_verify_runs_a_network_without_parameters():
    # was a bare StopIteration (the stacked parameters were empty)
    task = tasks.get("digits")
    x, y = task.split("test")
    expected = (_pooled()(x).argmax(1) == y).double().mean().item()
    r = verify(_pooled(), task)
    assert r.n == len(y) and r.accuracy == pytest.approx(expected)
    rs = verify([_pooled(), _pooled()], task)
    assert len(rs) == 2 and all(q.accuracy == pytest.approx(expected) for q in rs)


def test_verify_runs_networks_whose_only_state_is_buffers():
    task = tasks.get("digits")
    x, y = task.split("train")
    means = torch.stack([x[y == c].flatten(1).mean(0) for c in range(10)])
    good, bad = Prototypes(means), Prototypes(means.roll(1, 0))  # bad: every prototype under the wrong class
    rs = verify([good, bad], task)
    assert [r.accuracy for r in rs] == [verify(good, task).accuracy, verify(bad, task).accuracy]
    assert rs[0].accuracy > 0.8 > 0.2 > rs[1].accuracy


def test_verify_list_refuses_models_that_differ_in_a_layer_setting():
    # two LeakyReLU slopes, equal parameter shapes: the list ran both with the first model's slope, silently
    torch.manual_seed(0)
    a = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.5), nn.Linear(32, 10))
    b = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.9), nn.Linear(32, 10))
    b.load_state_dict(a.state_dict())
    assert verify(a, "digits").loss != verify(b, "digits").loss
    with pytest.raises(ArchError, match="needs models of one architecture"):
        verify([a, b], "digits")
    same = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.5), nn.Linear(32, 10))
    assert len(verify([a, same], "digits")) == 2  # the same settings still verify together
