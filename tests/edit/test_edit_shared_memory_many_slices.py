"""The inplace=True shared-memory check (edit.edits._shared_memory) names the two tensors that share an element
without one array per earlier tensor: one tied column among 3,000 column slices of a 48 MB buffer took 14 s (an
array of the buffer's size for each slice before it; counted here, not timed); the pair named is still the first, past 255 tensors too."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.edit.edits import _shared_memory


def _with(tensors: dict[str, torch.Tensor]) -> nn.Module:
    m = nn.Module()
    for name, t in tensors.items():
        m.register_buffer(name, t)
    return m


def test_a_tied_column_among_many_slices_is_named_with_a_few_buffer_sized_arrays(monkeypatch) -> None:
    buf = torch.zeros(100, 301)
    tensors = {f"c{i}": buf[:, i] for i in range(300)}
    tensors["z"] = buf[:, 299:]  # column 299 is c299's too
    made = []  # the arrays as large as the buffer: one per earlier slice was 14 s for 3,000 slices of 48 MB
    for fn in ("zeros", "zeros_like"):
        real = getattr(torch, fn)

        def counted(*args, _real=real, **kwargs):
            out = _real(*args, **kwargs)
            if out.numel() >= buf.numel():
                made.append(out.numel())
            return out

        monkeypatch.setattr(torch, fn, counted)
    found = _shared_memory(_with(tensors))
    monkeypatch.undo()
    assert found == "'c299' and 'z' share memory (tied weights)"
    assert len(made) <= 2, f"{len(made)} arrays the size of the buffer"


@pytest.mark.parametrize("n", [10, 300])  # labels of one byte, and of four past 255 tensors
def test_the_first_earlier_tensor_that_shares_an_element_is_named(n: int) -> None:
    buf = torch.zeros(8, n)
    tensors = {f"c{i}": buf[:, i] for i in range(n)}
    tensors["z"] = buf[:, n - 7:n - 2:2]  # columns n-7, n-5, n-3
    assert _shared_memory(_with(tensors)) == f"'c{n - 7}' and 'z' share memory (tied weights)"
    del tensors["z"]
    assert _shared_memory(_with(tensors)) is None
