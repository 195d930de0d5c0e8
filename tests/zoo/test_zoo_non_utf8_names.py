"""A zoo in a folder whose name is not valid UTF-8: its shards could not be read (safetensors takes UTF-8 names
only), so Zoo.load failed and `zoo check` reported every shard as unreadable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from metanet.zoo import Zoo


@pytest.fixture
def moved_zoo(small_zoo, tmp_path):
    dest = Path(os.fsdecode(os.fsencode(tmp_path) + b"/zoo\xe9"))
    try:
        shutil.copytree(small_zoo, dest)
    except (OSError, UnicodeError):  # e.g. macOS (APFS takes UTF-8 names only)
        pytest.skip("this file system refuses names that are not UTF-8")
    return dest


def test_a_zoo_under_a_non_utf8_name_reads_and_checks(small_zoo, moved_zoo):
    with Zoo(small_zoo) as a, Zoo(moved_zoo) as b:
        assert b.check().ok, b.check()
        first = a.load(0).state_dict()
        assert all(torch.equal(first[k], v) for k, v in b.load(0).state_dict().items())
