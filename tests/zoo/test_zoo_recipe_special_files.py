"""A recipe path naming a FIFO, a device or a folder says what it is (it was "not found"), without ever opening it:
reading a FIFO blocks until a writer comes, /dev/zero never ends."""

import os
import sys

import pytest

from metanet.cli import main
from metanet.errors import RecipeError
from metanet.zoo.recipe import load_recipe

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform == "win32", reason="needs POSIX FIFOs")


@needs_fifo
def test_fifo_recipe_is_named_a_fifo_and_never_opened(tmp_path):
    fifo = tmp_path / "r.yaml"
    os.mkfifo(fifo)  # opening it for reading would block this test forever (no writer)
    with pytest.raises(RecipeError, match=r"recipe '.*r\.yaml' is a FIFO \(named pipe\), not a regular file: "
                       r"give a path to a \.yaml file"):
        load_recipe(fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_recipe_is_a_device_and_the_cli_exits_2(tmp_path, capsys):
    with pytest.raises(RecipeError, match=r"recipe '/dev/zero' is a device, not a regular file"):
        load_recipe("/dev/zero")
    out = tmp_path / "d"
    assert main(["zoo", "build", "/dev/zero", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["metanet: error: recipe '/dev/zero' is a device, not a regular file: give a path to a .yaml file"]
    assert not out.exists()


def test_folder_recipe_is_named_a_folder_but_bare_names_still_resolve(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").mkdir()
    with pytest.raises(RecipeError, match=r"recipe '.*mine\.yaml' is a folder, not a regular file"):
        load_recipe(tmp_path / "mine.yaml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").mkdir()  # a folder in the working directory does not hide the shipped recipe 'tiny'
    assert load_recipe("tiny", check_tasks=False).name == "tiny"
