"""``inplace=True`` edits of a network whose tensors share memory: the edit runs on a copy (where the tie is gone)
and its tensors are written back one at a time, so two parameters on one storage (``nn.Parameter(other.weight)``)
kept whichever was written last -- the caller's network was not the one the report verified -- and an
``expand``-ed weight was a raw RuntimeError from ``load_state_dict``. Both are a ConfigError before anything
changes; parameters in disjoint parts of one buffer still edit in place, as a copy does."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit
from metanet.errors import ConfigError

TASK = "digits"


def _storage_tied() -> nn.Sequential:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16),
                      nn.ReLU(), nn.Linear(16, 10))
    m[5].weight = nn.Parameter(m[3].weight)  # another Parameter object on the same memory
    return m


def _expanded() -> nn.Sequential:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    m[1].weight = nn.Parameter(torch.randn(1, 64).expand(16, 64))  # 16 rows, one row of memory
    return m


def _one_buffer() -> nn.Sequential:
    """Weight and bias of the first layer are disjoint views of one flat buffer (as flattened-parameter optimisers
    make them)."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    flat = torch.cat([m[1].weight.detach().reshape(-1), m[1].bias.detach()])
    m[1].weight = nn.Parameter(flat[: 16 * 64].view(16, 64))
    m[1].bias = nn.Parameter(flat[16 * 64:])
    return m


OPS = {
    "scale": lambda m, i: edit.scale(m, "2:0", 0.5, TASK, inplace=i),
    "remove": lambda m, i: edit.remove(m, "1:0,3", TASK, inplace=i),
    "prune": lambda m, i: edit.prune(m, 0.5, TASK, max_examples=50, inplace=i),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_inplace_edit_of_storage_tied_parameters_is_refused(op):
    m = _storage_tied()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(ConfigError, match=r"'3\.weight' and '5\.weight' share memory.*inplace=False"):
        OPS[op](m, True)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert OPS[op](m, False).model is not m  # a copy edits as before


def test_inplace_edit_of_an_expanded_weight_is_a_config_error():
    m = _expanded()
    before = m[1].weight.detach().clone()
    with pytest.raises(ConfigError, match=r"elements of '1\.weight' overlap in memory"):
        edit.clamp(m, "1:0", TASK, inplace=True)
    assert torch.equal(m[1].weight, before)


@pytest.mark.parametrize("op", ["remove", "prune"])
def test_disjoint_views_of_one_buffer_still_edit_in_place(op):
    copy_result = OPS[op](_one_buffer(), False).model
    m = _one_buffer()
    r = OPS[op](m, True)
    assert r.model is m
    x = torch.rand(20, 64)
    with torch.no_grad():
        assert torch.equal(m(x), copy_result(x))
