"""``metanet zoo merge`` copies the first source's recipe.yaml into the destination. From a stranger's zoo that file
may be a symbolic link out of the zoo (to /etc/passwd, a private key): its contents must not be copied into the
merged zoo, to be shared with it. A recipe.yaml in another encoding than UTF-8 is copied as it is (it was a raw
UnicodeDecodeError)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import merge


@pytest.fixture
def zoo_dir(small_zoo, tmp_path) -> Path:
    return Path(shutil.copytree(small_zoo, tmp_path / "zoo"))


def test_a_recipe_linked_out_of_the_source_zoo_is_not_copied(zoo_dir, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2\n")
    (zoo_dir / "recipe.yaml").unlink()
    (zoo_dir / "recipe.yaml").symlink_to(secret)
    with pytest.raises(ZooError, match=r"recipe\.yaml is a symbolic link to .*secret\.txt.*outside the zoo"):
        merge(tmp_path / "out", zoo_dir)
    assert not (tmp_path / "out" / "recipe.yaml").exists()
    assert main(["zoo", "merge", str(tmp_path / "out2"), str(zoo_dir)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "out2" / "recipe.yaml").exists()


def test_a_recipe_linked_inside_the_source_zoo_is_copied(zoo_dir, tmp_path):
    (zoo_dir / "recipe.yaml").rename(zoo_dir / "recipe.orig.yaml")
    (zoo_dir / "recipe.yaml").symlink_to("recipe.orig.yaml")
    merge(tmp_path / "out", zoo_dir)
    assert (tmp_path / "out" / "recipe.yaml").read_bytes() == (zoo_dir / "recipe.orig.yaml").read_bytes()


def test_a_recipe_in_another_encoding_is_copied_byte_for_byte(zoo_dir, tmp_path):
    text = (zoo_dir / "recipe.yaml").read_bytes() + "# Zoo für Ziffern\n".encode("latin-1")
    (zoo_dir / "recipe.yaml").write_bytes(text)
    merge(tmp_path / "out", zoo_dir)
    assert (tmp_path / "out" / "recipe.yaml").read_bytes() == text
