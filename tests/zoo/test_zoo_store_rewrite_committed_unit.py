"""Store.write_unit (metanet.zoo.store): writing a unit that is already committed."""

from __future__ import annotations

import pytest

from metanet.errors import ZooError
from metanet.zoo.store import Store


def test_rewriting_a_committed_unit_keeps_it_intact(tmp_path):
    # the second write replaced the committed shard, its units row was refused (UNIQUE), and the failed write's
    # cleanup then deleted the shard: a committed unit without its file ('metanet zoo check': missing)
    with Store(tmp_path / "z", create=True) as s:
        s.lock()
        s.write_unit(3, b"first", [], seconds=1.0)
        with pytest.raises(ZooError, match=r"unit 3 .*already committed.*drop_units"):
            s.write_unit(3, b"second", [], seconds=2.0)
        assert s.done_units() == {3}
        assert (s.path / "shards" / "00003.safetensors").read_bytes() == b"first"
        assert s.broken_units() == {}
        s.drop_units([3])  # the documented way to write it again
        s.write_unit(3, b"second", [])
        assert (s.path / "shards" / "00003.safetensors").read_bytes() == b"second"
