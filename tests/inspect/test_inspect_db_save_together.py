"""NeuronDB.save writes neurons.sqlite and INDEX.md together: a write refused part-way (a full disk on INDEX.md)
left the new database beside the last run's INDEX.md, which described another measurement. And a broken symbolic
link as the output folder is named as such (it was called "a file")."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from inspect_helpers import planted_mlp, planted_task

from metanet.inspect import NeuronDB, inspect


@pytest.fixture(scope="module")
def dbs():
    net = planted_mlp()
    return inspect(net, planted_task(), reader=None), inspect(net, planted_task(), reader=None, max_examples=20)


def test_a_full_disk_on_index_md_leaves_both_files_as_they_were(tmp_path, monkeypatch, dbs):
    old, new = dbs
    old.save(tmp_path)
    before = {p: (tmp_path / p).read_bytes() for p in ("neurons.sqlite", "INDEX.md")}
    real = Path.write_text

    def full(self, text, *a, **k):  # INDEX.md's write: half of it, then the disk is full
        real(self, text[: len(text) // 2], *a, **k)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError, match="No space left on device") as info:
        new.save(tmp_path)
    assert info.value.filename == str(tmp_path / "INDEX.md")
    assert sorted(os.listdir(tmp_path)) == ["INDEX.md", "neurons.sqlite"]  # no temporaries
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
    monkeypatch.undo()
    new.save(tmp_path)  # then written, both
    assert NeuronDB.load(tmp_path).meta["n"] == new.meta["n"] != old.meta["n"]
    assert (tmp_path / "INDEX.md").read_text(encoding="utf-8") == new.index_md()


def test_a_broken_link_as_the_output_folder_is_named_as_such(tmp_path, dbs):
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(NotADirectoryError, match=r"is a broken symbolic link \(to .*gone\), not a directory; give a "
                                                 "new or existing directory for neurons.sqlite and INDEX.md"):
        dbs[0].save(link)
    assert sorted(os.listdir(tmp_path)) == ["out"]
