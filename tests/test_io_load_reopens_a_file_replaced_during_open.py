"""metanet.load re-checks which file the path names after safetensors opened it (metanet/io.py ``_open_one``):
safetensors reads the header and maps the bytes through two opens, so a path replaced during the open is opened
again, and the network read is the file now at the path."""

from __future__ import annotations

import torch
from torch import nn

import metanet
import metanet.io as io_mod


def _nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return (nn.Sequential(nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 3)),
            nn.Sequential(nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3)))


def _same(model: nn.Module, net: nn.Module) -> bool:
    got, want = model.state_dict(), net.state_dict()
    return set(got) == set(want) and all(got[k].shape == want[k].shape and torch.equal(got[k], want[k]) for k in want)


def test_a_path_replaced_during_the_open_is_opened_again(tmp_path, monkeypatch):
    a, b = _nets()
    path = tmp_path / "net.safetensors"
    metanet.save(a, path)
    real = io_mod.safe_open
    opens: list[int] = []

    def opening(*args, **kwargs):
        f = real(*args, **kwargs)
        if not opens:  # another process's save lands before this open returns
            metanet.save(b, path)
        opens.append(1)
        return f

    monkeypatch.setattr(io_mod, "safe_open", opening)
    model = metanet.load(path)
    assert len(opens) == 2  # without the re-check: one open, the replaced file's network returned
    assert _same(model, b) and not _same(model, a)


def test_a_path_replaced_at_every_open_is_read_at_the_last_attempt(tmp_path, monkeypatch):
    a, b = _nets()
    path = tmp_path / "net.safetensors"
    metanet.save(a, path)
    real = io_mod.safe_open
    opens: list[int] = []

    def opening(*args, **kwargs):
        f = real(*args, **kwargs)
        metanet.save(b if len(opens) % 2 == 0 else a, path)
        opens.append(1)
        return f

    monkeypatch.setattr(io_mod, "safe_open", opening)
    model = metanet.load(path)
    assert len(opens) == io_mod._OPEN_ATTEMPTS  # bounded: the last attempt's file is read as it was opened
    # attempt i (from 1) opened the file saved before it: a for odd i, b for even i
    assert _same(model, a if io_mod._OPEN_ATTEMPTS % 2 else b)
