"""The CLI's output path checks (cli.out_dir / out_file) name a broken symbolic link before any work: mkdir cannot
make a folder where one stands, and the command failed with "File exists" only after measuring or writing."""

from __future__ import annotations

import os

import pytest

from metanet import cli
from metanet.errors import ConfigError


def test_out_dir_that_is_a_broken_link_is_refused_up_front(tmp_path):
    link = tmp_path / "out"
    os.symlink(tmp_path / "gone", link)
    with pytest.raises(ConfigError, match=r"--out '.*out' is a broken symbolic link \(to .*gone\), not a directory"):
        cli.out_dir(link)
    assert not (tmp_path / "gone").exists()


@pytest.mark.parametrize("check", [cli.out_dir, cli.out_file])
def test_a_broken_link_among_the_parents_is_named(tmp_path, check):
    os.symlink(tmp_path / "gone", tmp_path / "lnk")
    given = tmp_path / "lnk" / "deeper" / "x.safetensors"
    with pytest.raises(ConfigError, match=r": .*lnk is a broken symbolic link \(to .*gone\), not a directory"):
        check(given)


def test_a_link_to_a_directory_is_still_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "lnk")
    assert cli.out_dir(tmp_path / "lnk") == tmp_path / "lnk"
    assert cli.out_file(tmp_path / "lnk" / "new" / "x.safetensors") == tmp_path / "lnk" / "new" / "x.safetensors"

