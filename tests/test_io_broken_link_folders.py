"""A broken symbolic link where metanet must make a folder (the parent of a file it saves): mkdir cannot make one
there, and its 'File exists' was reported as "is a file, not a directory", a file that is not there."""

from __future__ import annotations

import os

import pytest

from metanet import save
from metanet.nets import build


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_broken_link_as_the_parent_folder_is_named_as_such(tmp_path, below):
    link = tmp_path / "runs"
    link.symlink_to(tmp_path / "gone" / "runs")
    target = link / below / "m.safetensors" if below else link / "m.safetensors"
    with pytest.raises(NotADirectoryError, match=r"is a broken symbolic link \(to .*gone/runs\), not a directory; "
                                                 "no file can be written under it") as info:
        save(build("mlp:4-2"), target)
    assert info.value.filename == str(link)
    assert sorted(os.listdir(tmp_path)) == ["runs"] and link.is_symlink()  # nothing made, nothing left


def test_a_file_as_the_parent_folder_is_still_called_a_file(tmp_path):
    (tmp_path / "notes").write_text("keep")
    with pytest.raises(NotADirectoryError, match="is a file, not a directory; no file can be written under it"):
        save(build("mlp:4-2"), tmp_path / "notes" / "m.safetensors")
    assert (tmp_path / "notes").read_text() == "keep"
