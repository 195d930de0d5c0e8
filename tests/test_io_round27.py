"""Round 27: metanet.io file permissions on overwrite, metadata too large for a header, awkward paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch
from torch import nn

from metanet import io
from metanet.errors import FileFormatError, MetadataError


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_overwriting_keeps_the_files_permissions(tmp_path):
    # a private 0600 file became 0644 (world-readable) on every save over it; open(path, "w") keeps the mode
    p = tmp_path / "net.safetensors"
    io.save(_net(), p)
    os.chmod(p, 0o600)
    io.save(_net(), p, note="again")
    assert _mode(p) == 0o600
    assert io.load_meta(p) == {"note": "again"}
    os.chmod(p, 0o640)
    io.atomic_write(p, lambda tmp: Path(tmp).write_bytes(b"x"))
    assert _mode(p) == 0o640 and p.read_bytes() == b"x"


def test_overwriting_through_a_symlink_keeps_the_targets_permissions(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    io.atomic_write(link, lambda tmp: Path(tmp).write_text("new"))
    assert link.is_symlink() and target.read_text() == "new" and _mode(target) == 0o600


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        p = io.save(_net(), tmp_path / "new.safetensors")
    finally:
        os.umask(umask)
    assert _mode(p) == 0o644


def test_metadata_too_large_for_a_header_is_a_metadata_error(tmp_path):
    # a raw safetensors 'SafetensorError: Error while serializing: header too large' before
    p = tmp_path / "big.safetensors"
    io.save(_net(), p, note="old")
    with pytest.raises(MetadataError, match="100,000,000 bytes") as e:
        io.save(_net(), p, blob="x" * 100_000_000)
    assert isinstance(e.value, TypeError)  # MetadataError's documented base
    assert io.load_meta(p) == {"note": "old"}  # the old file is untouched, nothing else left behind
    assert sorted(q.name for q in tmp_path.iterdir()) == ["big.safetensors"]


def test_non_ascii_metadata_and_paths_round_trip(tmp_path, monkeypatch):
    folder = tmp_path / "dossier é ✓" / "sub dir"
    meta = {"note": "héllo ✓ 日本", "ключ": {"ü": [1, 2.5, None, True]}, "nul": "a\x00b"}
    m = _net()
    p = io.save(m, folder / "réseau 1.safetensors", **meta)
    assert io.load_meta(p) == meta
    got = io.load(p)
    assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(), m.state_dict().values()))
    monkeypatch.chdir(folder)  # a relative path, as str and as bytes
    assert io.load_meta("réseau 1.safetensors") == meta
    assert io.load_meta(os.fsencode("réseau 1.safetensors")) == meta


def test_a_pickle_is_refused_without_unpickling(tmp_path):
    p = tmp_path / "net.pt"
    torch.save(_net(), p)
    with pytest.raises(FileFormatError, match="never unpickles"):
        io.load(p)
    with pytest.raises(FileFormatError, match="never unpickles"):
        io.load_meta(p)
