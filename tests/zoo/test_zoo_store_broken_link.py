"""Store(create=True), as zoo build and merge open their directory, at a broken symbolic link: it said
"cannot create the zoo directory ... (File exists)", which named no cause."""

from __future__ import annotations

import os

import pytest

from metanet.errors import ZooError
from metanet.zoo.store import Store


def test_a_broken_link_as_the_zoo_directory_is_named(tmp_path):
    link = tmp_path / "zoo"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ZooError, match=r"cannot create the zoo directory .*zoo \(is a broken symbolic link "
                                       r"\(to .*elsewhere\), not a directory\); give a new or existing directory"):
        Store(link, create=True)
    assert sorted(os.listdir(tmp_path)) == ["zoo"]


def test_a_broken_link_above_or_inside_the_zoo_is_named_by_its_path(tmp_path):
    (tmp_path / "up").symlink_to(tmp_path / "gone")
    with pytest.raises(ZooError, match=r"\(is a broken symbolic link \(to .*gone\), not a directory: "
                                       rf"{tmp_path / 'up'}\)"):
        Store(tmp_path / "up" / "zoo", create=True)
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "shards").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ZooError, match=rf"not a directory: {tmp_path / 'z' / 'shards'}\)"):
        Store(tmp_path / "z", create=True)


def test_a_file_as_the_zoo_directory_keeps_its_message(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ZooError, match=r"cannot create the zoo directory .*f \(Not a directory\); give"):
        Store(tmp_path / "f", create=True)
