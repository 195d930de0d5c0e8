"""The output folder lock (metanet.inspect.output._publishing): a file system that cannot lock it."""

from __future__ import annotations

import errno

import pytest

from metanet.inspect import output
from metanet.inspect.output import staged


@pytest.mark.parametrize("code", [errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP])
def test_folder_that_cannot_be_locked_is_still_written(tmp_path, monkeypatch, code):
    # NFS emulates flock by a write lock, which a directory opened read-only cannot take (EBADF); FUSE / network
    # file systems without locks give ENOLCK / EOPNOTSUPP: the run's files are published all the same
    out = tmp_path / "out"
    out.mkdir()
    (out / "INDEX.md").write_text("old run")

    def refuse(fd, op):
        raise OSError(code, "no locks here")

    monkeypatch.setattr(output.fcntl, "flock", refuse)
    with staged(out) as stage:
        (stage / "INDEX.md").write_text("new run")
    assert (out / "INDEX.md").read_text() == "new run"
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.md"]  # no staging folder left


def test_other_lock_errors_still_raise_and_change_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "INDEX.md").write_text("old run")

    def refuse(fd, op):
        raise OSError(errno.EIO, "i/o error")

    monkeypatch.setattr(output.fcntl, "flock", refuse)
    with pytest.raises(OSError) as info:
        with staged(out) as stage:
            (stage / "INDEX.md").write_text("new run")
    assert info.value.errno == errno.EIO
    assert (out / "INDEX.md").read_text() == "old run"
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.md"]
