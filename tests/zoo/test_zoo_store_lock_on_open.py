"""``Store(path, create=True, lock=True)``: the writer lock a build or merge takes before the index is first read."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanet.zoo.store import Store, ZooError


def test_the_lock_is_held_from_open_and_released_when_the_index_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "zoo", create=True, lock=True) as s:
        assert s.conn.execute("SELECT count(*) FROM units").fetchone()[0] == 0
        with pytest.raises(ZooError, match=r"another build or merge is writing to .*\(its \.lock is held\)"):
            Store(tmp_path / "zoo", create=True, lock=True)
        s.lock()  # a build's lock() on a store opened locked: the lock is kept, not taken twice
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "index.sqlite").write_bytes(b"not a database" * 100)
    for _ in range(2):  # the second is refused for the index again, not for a .lock the first left held
        with pytest.raises(ZooError, match=r"index\.sqlite is not a readable zoo index \(file is not a database\)"):
            Store(bad, create=True, lock=True)
