"""PATH_MAX (4096 on Linux) counts the C string's closing NUL: a path of 4096 bytes is one no file system takes, and
is refused by name before anything is written; one of 4095 bytes is a path the checks let through."""

from __future__ import annotations

import os

import pytest

import metanet
from metanet.errors import FileFormatError
from metanet.io import path_problem

pytestmark = pytest.mark.skipif(os.name != "posix", reason="PATH_MAX of 4096 is a POSIX limit")


def _deep(size: int) -> str:
    """A relative path of ``size`` bytes, every name in it short."""
    head = "d/" * ((size - 2) // 2)
    return head + "n" * (size - len(head))


def test_a_path_of_exactly_path_max_bytes_is_refused_by_name(tmp_path, monkeypatch):
    if os.pathconf(tmp_path, "PC_PATH_MAX") != 4096:
        pytest.skip("this file system reports another PATH_MAX")
    monkeypatch.chdir(tmp_path)
    at, below = _deep(4096), _deep(4095)
    assert (len(at), len(below)) == (4096, 4095)
    assert path_problem(below) is None
    assert path_problem(at) == ("is too long (4096 characters; the system allows 4095 per path); give a shorter "
                                "path")
    with pytest.raises(FileFormatError, match=r"is too long \(4096 characters; the system allows 4095 per path\)"):
        metanet.save(metanet.nets.build("mlp:4-2"), at)
    assert not any(tmp_path.iterdir())  # no folders made on the way to a file that cannot be written
