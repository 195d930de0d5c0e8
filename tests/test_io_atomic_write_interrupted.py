"""`metanet.io.atomic_write` interrupted inside the write (Ctrl-C, SIGTERM raised as an exception: not an OSError)
leaves no temporary file beside the destination, and a file it was replacing keeps its old contents."""

from __future__ import annotations

import pytest

from metanet.io import atomic_write


class _Stop(BaseException):
    """Stands for the CLI's SIGTERM exception: a BaseException that is neither an Exception nor an OSError."""


@pytest.mark.parametrize("stop", [KeyboardInterrupt, _Stop])
def test_an_interrupted_write_leaves_no_temporary_and_the_old_file(tmp_path, stop):
    path = tmp_path / "net.safetensors"
    path.write_bytes(b"old")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(b"half of the new")
        raise stop

    with pytest.raises(stop):
        atomic_write(path, write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors"]
    assert path.read_bytes() == b"old"
    with pytest.raises(stop):
        atomic_write(tmp_path / "new.safetensors", write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors"]
