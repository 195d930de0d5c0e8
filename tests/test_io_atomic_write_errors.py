"""atomic_write's (metanet.io) OSError wrapping: the destination is named, the error's class is kept."""

from __future__ import annotations

import errno
import io

import pytest

from metanet.io import atomic_write


def _raising(exc: BaseException):
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise exc

    return write


@pytest.mark.parametrize("exc", [FileNotFoundError("no errno"), io.UnsupportedOperation("not writable"),
                                 TimeoutError("timed out")], ids=lambda e: type(e).__name__)
def test_error_without_errno_keeps_its_class(tmp_path, exc):
    # OSError(None, ...) is a plain OSError: these lost the class callers catch them by (UnsupportedOperation is
    # also a ValueError)
    dest = tmp_path / "f.bin"
    with pytest.raises(type(exc)) as info:
        atomic_write(dest, _raising(exc))
    assert type(info.value) is type(exc)
    assert not dest.exists() and list(tmp_path.iterdir()) == []  # the temporary is gone


def test_library_subclass_keeps_its_class(tmp_path):
    class StorageError(OSError):
        pass

    with pytest.raises(StorageError):
        atomic_write(tmp_path / "f.bin", _raising(StorageError(errno.EIO, "device gone")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc, cls", [(OSError(errno.ENOSPC, "No space left on device"), OSError),
                                      (PermissionError(errno.EACCES, "Permission denied"), PermissionError)])
def test_errno_error_names_the_destination(tmp_path, exc, cls):
    dest = tmp_path / "f.bin"
    with pytest.raises(cls) as info:
        atomic_write(dest, _raising(exc))
    assert type(info.value) is cls and info.value.errno == exc.errno and info.value.filename == str(dest)
    assert list(tmp_path.iterdir()) == []
