"""atomic_write creates its temporary file exclusively: a file that already has the temporary's name (another
process's temporary, writing the same destination at the same time) is neither written over nor renamed away; the
next random name is used."""

from __future__ import annotations

import secrets
from pathlib import Path

from metanet.io import atomic_write


def test_a_temporary_name_already_taken_is_left_alone(tmp_path, monkeypatch):
    names = iter(["aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(names))
    taken = tmp_path / ".net.safetensors.aaaaaaaa.tmp"
    taken.write_bytes(b"another writer's half-written file")
    dest = tmp_path / "net.safetensors"

    assert atomic_write(dest, lambda tmp: Path(tmp).write_bytes(b"new")) == dest

    assert dest.read_bytes() == b"new"
    assert taken.read_bytes() == b"another writer's half-written file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [taken.name, dest.name]  # its own temporary renamed away
