"""atomic_write to a path that is a directory: an IsADirectoryError naming that path, checked before anything is
written (the rename over the directory would fail only after the whole write), and no temporary file left."""

import errno

import pytest

from metanet.io import atomic_write


def test_a_directory_is_refused_before_the_write(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "kept.txt").write_text("x")
    calls = []

    def write(tmp):
        calls.append(tmp)
        open(tmp, "wb").write(b"data")

    with pytest.raises(IsADirectoryError) as info:
        atomic_write(folder, write)
    assert info.value.errno == errno.EISDIR and info.value.filename == str(folder)
    assert "is a directory; give a file path" in str(info.value)
    assert calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]
