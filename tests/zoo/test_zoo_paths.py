"""Paths given to the zoo: every public zoo function reads its paths alike (str, bytes or os.PathLike, '~' expanded
once at the entry, so a build's emptiness check and its Store see the same folder, an empty path refused by name),
and a zoo opened by a relative path or through a symlink keeps working after a chdir."""

from __future__ import annotations

import json
import os
import shlex

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import Zoo, build, merge


@pytest.mark.parametrize("path", ["", b""])
def test_zoo_of_an_empty_path_says_it_is_empty_not_that_dot_is_not_a_zoo(path):
    with pytest.raises(ZooError, match=r"zoo path is empty .*give the zoo directory"):
        Zoo(path)


def test_zoo_opens_a_bytes_path_like_store_does(tiny_zoo):
    with Zoo(os.fsencode(str(tiny_zoo))) as zoo, Zoo(tiny_zoo) as ref:
        assert len(zoo) == len(ref) and zoo.path == ref.path


def test_zoo_and_the_cli_expand_a_tilde(home, tiny_zoo, capsys):
    (home / "my zoos").mkdir()
    (home / "my zoos" / "tiny").symlink_to(tiny_zoo)
    with Zoo("~/my zoos/tiny") as zoo:
        assert zoo.path == home / "my zoos" / "tiny" and len(zoo) > 0
        n = len(zoo)
    assert main(["zoo", "info", "~/my zoos/tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["networks"] == n


def test_build_into_a_tilde_folder_checks_that_folder_before_building(home, small_recipe):
    docs = home / "Documents"
    docs.mkdir()
    (docs / "notes.txt").write_text("mine")
    with pytest.raises(ZooError, match="is not empty and not a zoo"):
        build(small_recipe, "~/Documents", limit=1, progress=False)
    assert sorted(p.name for p in docs.iterdir()) == ["notes.txt"]
    assert list(os.listdir(".")) == []  # no folder named '~' in the working directory


def test_build_expands_a_tilde_in_out_and_in_the_recipe_path(home, small_recipe):
    import yaml

    (home / "small.yaml").write_text(yaml.safe_dump(small_recipe))
    summary = build("~/small.yaml", "~/new zoo", limit=1, progress=False)
    assert summary.path == home / "new zoo" and (home / "new zoo" / "index.sqlite").is_file()
    assert list(os.listdir(".")) == []
    with Zoo("~/new zoo") as zoo:
        assert len(zoo) == summary.nets_written == 3


@pytest.mark.parametrize("out", ["", None, 3])
def test_build_refuses_an_empty_or_non_path_out_before_writing(home, small_recipe, out):
    # '' was the working directory (built into it when empty); None and 3 were raw TypeErrors
    with pytest.raises(ZooError, match="give a new or empty directory to build into"):
        build(small_recipe, out, limit=1, progress=False)
    assert list(os.listdir(".")) == []


@pytest.fixture
def src_zoo(tmp_path, small_recipe):
    out = tmp_path / "src zoo"
    build(small_recipe, out, limit=1, progress=False)
    return out


def test_merge_expands_a_tilde_and_takes_a_bytes_source(home, src_zoo):
    (home / "src").symlink_to(src_zoo)
    assert merge("~/merged", ["~/src"])["nets_copied"] == 3
    assert (home / "merged" / "index.sqlite").is_file() and list(os.listdir(".")) == []
    # one bytes path was read as a sequence of byte values ("got int")
    assert merge(home / "merged 2", os.fsencode(str(src_zoo)))["nets_copied"] == 3


def test_merge_refuses_empty_and_non_path_arguments_by_name(home, src_zoo):
    with pytest.raises(ZooError, match="needs at least one source"):
        merge("~/m", (s for s in []))  # was "every merge source is the destination ~/m itself"
    with pytest.raises(ZooError, match="expected a zoo directory or a list of them, got NoneType"):
        merge("~/m", None)
    with pytest.raises(ZooError, match="zoo path is empty"):
        merge("", [src_zoo])  # was the working directory, "'.' is not empty and not a zoo"
    with pytest.raises(ZooError, match="got NoneType"):
        merge(None, [src_zoo])  # was a raw TypeError
    assert not (home / "m").exists() and list(os.listdir(".")) == []


def test_cli_merge_checks_the_expanded_destination(home, src_zoo, capsys):
    # out_dir checked './~/f' (absent: fine) while merge wrote into ~/f, an existing file
    (home / "f").write_text("keep me")
    assert main(["zoo", "merge", "~/f", str(src_zoo)]) == 2
    assert "is an existing file, not a directory" in capsys.readouterr().err
    assert (home / "f").read_text() == "keep me"


def test_check_hint_of_a_path_with_spaces_is_a_working_shell_command(tmp_path, src_zoo):
    zoo = Zoo(src_zoo)
    (src_zoo / zoo.info(0).shard).write_bytes(b"not a shard")
    with pytest.raises(ZooError) as info:
        zoo.state_dict(0)
    assert f"metanet zoo check {shlex.quote(str(src_zoo))}" in str(info.value)
    zoo.close()


def test_a_zoo_opened_by_a_relative_path_reads_its_shards_after_a_chdir(small_zoo, tmp_path, monkeypatch):
    # "cannot read small/shards/00000.safetensors": the Store kept the relative path and read shards later by it
    monkeypatch.chdir(small_zoo.parent)
    with Zoo(small_zoo.name) as zoo:
        ids = [n.id for n in zoo.select(arch=zoo.archs[0])][:2]
        monkeypatch.chdir(tmp_path)
        assert zoo.load(ids[0]) is not None and zoo.stacked(ids)[1]
        assert zoo.path == small_zoo  # absolute, no symlink resolved, no '..' left
        assert zoo.check().ok
    monkeypatch.chdir(small_zoo / "shards")
    with Zoo(os.path.join("..", "..", small_zoo.name)) as zoo:
        assert zoo.path == small_zoo


def test_a_relative_path_through_a_symlink_keeps_the_link_name(small_zoo, tmp_path, monkeypatch):
    (tmp_path / "link").symlink_to(small_zoo, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    with Zoo("link") as zoo:
        assert zoo.path == tmp_path / "link"  # the name given, not the target
        with pytest.raises(ZooError, match=r"no network with id 99999 in .*link"):
            zoo.info(99999)
