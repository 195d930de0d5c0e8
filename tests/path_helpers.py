"""Helpers of tests of file names (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def non_utf8_path(folder: Path, name: bytes) -> Path:
    """``folder / name`` for a name of non-UTF-8 bytes (a legacy encoding such as Latin-1), or a skip where the file
    system refuses such names."""
    path = Path(os.fsdecode(os.fsencode(folder) + b"/" + name))
    try:
        path.touch()
        path.unlink()
    except (OSError, UnicodeError):  # e.g. macOS (APFS takes UTF-8 names only)
        pytest.skip("this file system refuses names that are not UTF-8")
    return path
