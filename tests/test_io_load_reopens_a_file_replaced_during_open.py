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


def _load_replaced(tmp_path, monkeypatch, replace) -> tuple[nn.Module, int, nn.Module, nn.Module]:
    """``metanet.load`` of a file holding network a, ``replace(path, opens so far, a, b)`` called as each
    ``safe_open`` returns (another process's save landing then); the model and the number of opens."""
    a, b = _nets()
    path = tmp_path / "net.safetensors"
    metanet.save(a, path)
    real = io_mod.safe_open
    opens: list[int] = []

    def opening(*args, **kwargs):
        f = real(*args, **kwargs)
        replace(path, len(opens), a, b)
        opens.append(1)
        return f

    monkeypatch.setattr(io_mod, "safe_open", opening)
    return metanet.load(path), len(opens), a, b


def test_a_path_replaced_during_the_open_is_opened_again(tmp_path, monkeypatch):
    def once(path, n, a, b):
        if n == 0:
            metanet.save(b, path)

    model, opens, a, b = _load_replaced(tmp_path, monkeypatch, once)
    assert opens == 2  # without the re-check: one open, the replaced file's network returned
    assert _same(model, b) and not _same(model, a)


def test_a_path_replaced_at_every_open_is_read_at_the_last_attempt(tmp_path, monkeypatch):
    def always(path, n, a, b):
        metanet.save(b if n % 2 == 0 else a, path)

    model, opens, a, b = _load_replaced(tmp_path, monkeypatch, always)
    assert opens == io_mod._OPEN_ATTEMPTS  # bounded: the last attempt's file is read as it was opened
    # attempt i (from 1) opened the file saved before it: a for odd i, b for even i
    assert _same(model, a if io_mod._OPEN_ATTEMPTS % 2 else b)
