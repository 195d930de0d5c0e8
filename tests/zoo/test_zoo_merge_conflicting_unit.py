"""``merge`` skips a unit the destination already holds identically, and refuses one it holds with other contents
(the zoos come from different recipes or code versions) instead of silently keeping the destination's networks.

No test merged two zoos whose unit differed: had the sha256 comparison gone, every merge would still pass, and
shards trained by another version would be mixed without a word. Zoos are written by hand (one tiny unit each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanet.errors import ZooError
from metanet.zoo import merge
from metanet.zoo.store import Store


def _zoo(path: Path, shard: bytes) -> Path:
    s = Store(path, create=True)
    try:
        s.set_meta(recipe="r", recipe_sha256="0" * 64, limit="null")
        s.write_unit(0, shard, [])
    finally:
        s.close()
    return path


def _shard(path: Path) -> bytes:
    return (path / "shards" / "00000.safetensors").read_bytes()


def test_a_unit_that_differs_is_refused_and_the_destination_kept(tmp_path):
    out, other = _zoo(tmp_path / "out", b"one"), _zoo(tmp_path / "other", b"two")
    with pytest.raises(ZooError, match=r"unit 0 \(shards/00000.safetensors\) differs between"):
        merge(out, [other])
    assert _shard(out) == b"one"


def test_an_identical_unit_is_skipped(tmp_path):
    out, same = _zoo(tmp_path / "out", b"one"), _zoo(tmp_path / "same", b"one")
    got = merge(out, [same])
    assert got == {"units_copied": 0, "units_skipped": 1, "nets_copied": 0, "units_repaired": 0}
    assert _shard(out) == b"one"
