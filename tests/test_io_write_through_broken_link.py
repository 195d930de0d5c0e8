"""Saving to a broken symbolic link writes through it as open() does, into the folder it points to, which must exist:
atomic_write made the missing folders wherever the link pointed (``metanet generate digits --out brk`` with
``brk -> /nonexistent/x`` created ``/nonexistent/`` and saved there). The CLI's out_file refuses it before the work."""

from __future__ import annotations

import errno
import os

import pytest

from metanet import cli, load, save
from metanet.errors import ConfigError
from metanet.io import atomic_write
from metanet.nets import build


def test_a_broken_link_into_a_missing_folder_makes_no_folder(tmp_path):
    link = tmp_path / "brk"
    link.symlink_to(tmp_path / "nowhere" / "deeper" / "x.safetensors")
    with pytest.raises(FileNotFoundError, match=r"is a broken symbolic link \(to .*nowhere/deeper/x.safetensors\), "
                                                r"whose folder .*nowhere/deeper does not exist") as info:
        save(build("mlp:4-2"), link)
    assert info.value.filename == str(link)
    assert sorted(os.listdir(tmp_path)) == ["brk"] and link.is_symlink()  # no folder made, no temporary left


def test_a_broken_link_under_a_file_and_a_loop_are_named(tmp_path):
    (tmp_path / "notes").write_text("keep")
    under = tmp_path / "under"
    under.symlink_to(tmp_path / "notes" / "x")
    with pytest.raises(NotADirectoryError, match=r"whose folder .*notes is a file"):
        atomic_write(under, lambda tmp: open(tmp, "w").close())
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symbolic link in a loop") as info:
        atomic_write(tmp_path / "a", lambda tmp: open(tmp, "w").close())
    assert info.value.errno == errno.ELOOP
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()  # not replaced by a regular file
    assert (tmp_path / "notes").read_text() == "keep" and sorted(os.listdir(tmp_path)) == ["a", "b", "notes", "under"]


def test_a_broken_link_into_an_existing_folder_is_still_written_through(tmp_path):
    (tmp_path / "runs").mkdir()
    link = tmp_path / "latest.safetensors"
    link.symlink_to(tmp_path / "runs" / "m.safetensors")
    assert cli.out_file(link) == link
    save(build("mlp:4-2"), link)
    assert link.is_symlink() and (tmp_path / "runs" / "m.safetensors").is_file() and load(link) is not None


def test_out_file_refuses_a_broken_link_into_a_missing_folder(tmp_path):
    link = tmp_path / "brk"
    link.symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(ConfigError, match=r"--out '.*brk' is a broken symbolic link \(to .*nowhere/x\), whose folder "
                                          r".*nowhere does not exist; give a file path in an existing folder"):
        cli.out_file(link)
    with pytest.raises(ConfigError, match=r"model.export '.*brk' is a broken symbolic link"):
        cli.out_file(link, flag="model.export", example="model.safetensors")  # the train exports' check


def test_cli_generate_refuses_it_before_the_work(tmp_path, capsys):
    link = tmp_path / "brk"
    link.symlink_to(tmp_path / "nowhere" / "x")
    assert cli.main(["generate", "digits", "--out", str(link)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "is a broken symbolic link" in err and "nowhere does not exist" in err
    assert sorted(os.listdir(tmp_path)) == ["brk"]
