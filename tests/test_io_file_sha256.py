"""file_sha256 (the zoo's shard integrity check, a writer's provenance) hashes a file's every byte: it reads in
1 MiB blocks, and a file larger than one block must not be hashed by its first block only."""

from __future__ import annotations

import hashlib

from metanet.io import file_sha256


def test_the_digest_covers_every_block_of_a_file_larger_than_one_block(tmp_path):
    data = bytes(range(256)) * ((2 << 20) // 256) + b"end"  # two 1 MiB blocks and 3 bytes
    path = tmp_path / "shard.safetensors"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()

    path.write_bytes(data[:-1] + b"!")  # changed in its last block only, as a corrupt shard's tail
    assert file_sha256(path) == hashlib.sha256(data[:-1] + b"!").hexdigest()


def test_an_empty_file_has_the_digest_of_no_bytes(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert file_sha256(str(path)) == hashlib.sha256(b"").hexdigest()
