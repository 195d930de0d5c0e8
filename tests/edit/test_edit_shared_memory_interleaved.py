"""The inplace=True shared-memory check (edit.edits._shared_memory) compares elements, not byte ranges: parameters
that are column slices of one buffer (``buf[:, :64]`` and ``buf[:, 64]``) interleave in memory without sharing an
element and edit in place, while two ``torch.from_numpy`` views of one array (two torch storages over the same
memory) are tied weights like two views of one storage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from metanet import edit
from metanet.edit.edits import _shared_memory
from metanet.errors import ConfigError

TASK = "digits"


def _with(**tensors: torch.Tensor) -> nn.Module:
    m = nn.Module()
    for name, t in tensors.items():
        m.register_buffer(name, t)
    return m


def _column_slices() -> nn.Sequential:
    """The first layer's weight and bias are the columns of one (16, 65) buffer."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    buf = torch.cat([m[1].weight.detach(), m[1].bias.detach()[:, None]], 1)
    m[1].weight, m[1].bias = nn.Parameter(buf[:, :64]), nn.Parameter(buf[:, 64])
    return m


_BUF = torch.zeros(16, 65)
_FLAT = torch.zeros(100)


@pytest.mark.parametrize("tensors, shared", [
    ({"w": _BUF[:, :64], "b": _BUF[:, 64]}, False),
    ({"a": _BUF[:, ::2], "b": _BUF[:, 1::2]}, False),  # even and odd columns
    ({"a": _BUF[:, :40], "b": _BUF[:, 30:]}, True),  # columns 30 to 39 in both
    ({"a": _BUF[:, ::2], "b": _BUF[:, 2::4]}, True),
    ({"a": _FLAT[:10], "b": _FLAT.view(torch.uint8)[40:44]}, False),  # float 10's bytes
    ({"a": _FLAT[:10], "b": _FLAT.view(torch.uint8)[36:40]}, True),  # float 9's bytes
])
def test_interleaved_tensors_share_memory_only_where_an_element_is_in_both(tensors, shared):
    found = _shared_memory(_with(**tensors))
    assert (found is not None) == shared, found
    if shared:
        assert found == "'a' and 'b' share memory (tied weights)"


def test_overlapping_numpy_views_are_found_though_they_are_two_storages():
    a = np.zeros((16, 64), dtype=np.float32)
    left, mid = torch.from_numpy(a[:, :16]), torch.from_numpy(a[:10, 8:24])
    assert left.untyped_storage().data_ptr() != mid.untyped_storage().data_ptr()
    assert _shared_memory(_with(a=left, b=mid)) == "'a' and 'b' share memory (tied weights)"
    assert _shared_memory(_with(a=left, b=torch.from_numpy(a[:10, 16:24]))) is None


def test_column_slices_of_one_buffer_edit_in_place_as_a_copy_does():
    copied = edit.remove(_column_slices(), "1:0,3", TASK).model
    m = _column_slices()
    assert edit.remove(m, "1:0,3", TASK, inplace=True).model is m
    x = torch.rand(20, 64)
    with torch.no_grad():
        assert torch.equal(m(x), copied(x))
    assert m[1].weight[[0, 3]].abs().sum() == 0


def test_overlapping_column_slices_are_still_refused_in_place():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 10))
    buf = torch.randn(16, 20)
    m[3].weight, m[5].weight = nn.Parameter(buf[:, :16]), nn.Parameter(buf[:10, 4:20])
    with pytest.raises(ConfigError, match=r"'3\.weight' and '5\.weight' share memory"):
        edit.remove(m, "1:0", TASK, inplace=True)
