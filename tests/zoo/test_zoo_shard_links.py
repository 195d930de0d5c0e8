"""Where ``Store.shard_path`` (``metanet/zoo/store.py``) refuses a shard, its message says why: a shard file that is a
symbolic link out of the zoo (its index row is the zoo's own) is named as a link to that place, not as an index that
was edited; a name that is wrong itself keeps the message about the index."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from metanet.errors import ZooError
from metanet.zoo import Zoo


@pytest.fixture
def zoo_dir(small_zoo, tmp_path):
    return shutil.copytree(small_zoo, tmp_path / "zoo")


def test_a_shard_linked_out_of_the_zoo_is_named_as_a_link(zoo_dir, tmp_path):
    target = tmp_path / "elsewhere.safetensors"
    shard = zoo_dir / "shards" / "00000.safetensors"
    shutil.move(shard, target)
    shard.symlink_to(target)  # the index row unchanged: only the file is a link out
    with Zoo(zoo_dir) as zoo:
        with pytest.raises(ZooError, match=r"network 0 names the shard .* not inside the zoo directory") as e:
            zoo.load(0)
    message = str(e.value)
    assert "symbolic link" in message and str(target) in message, message
    assert "edited" not in message, message  # the index is intact


def test_a_wrong_name_in_the_index_keeps_the_index_message(zoo_dir):
    with sqlite3.connect(zoo_dir / "index.sqlite") as c:
        c.execute("UPDATE nets SET shard='.' WHERE id=0")  # the zoo directory itself: no link involved
    c.close()
    with Zoo(zoo_dir) as zoo:
        with pytest.raises(ZooError, match=r"not inside the zoo directory .*index.sqlite was edited") as e:
            zoo.load(0)
    assert "symbolic link" not in str(e.value)
