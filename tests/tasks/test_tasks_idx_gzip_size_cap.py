"""read_idx reads a gzipped IDX file only as far as its header's dims say: a gzip bomb cannot fill memory."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from metanet.errors import TaskError
from metanet.tasks.idx import read_idx


def test_gzip_bomb_behind_a_small_header_is_refused_without_unpacking_it(tmp_path):
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(struct.pack(">II", 0x0801, 10) + bytes(32 << 20), compresslevel=1))
    tracemalloc.start()
    try:
        with pytest.raises(TaskError, match=r"train-labels-idx1-ubyte.gz is truncated or corrupt: .*= 10 bytes"):
            read_idx(bomb, 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"read_idx held {peak} bytes for a 10-byte IDX file"


def test_header_claiming_more_than_the_gzip_file_can_hold_is_refused(tmp_path):
    liar = tmp_path / "t10k-images-idx3-ubyte.gz"
    liar.write_bytes(gzip.compress(struct.pack(">IIII", 0x0803, 60000, 28, 28) + bytes(100)))
    with pytest.raises(TaskError, match=r"t10k-images-idx3-ubyte.gz is truncated or corrupt: header says "
                       r"\(60000, 28, 28\) = 47040000 bytes of data, more than its \d+ gzip-compressed bytes"):
        read_idx(liar, 3)


def test_plain_file_shorter_or_longer_than_its_header_is_refused(tmp_path):
    plain = tmp_path / "train-labels-idx1-ubyte"
    plain.write_bytes(struct.pack(">II", 0x0801, 1000) + bytes(10))
    with pytest.raises(TaskError, match=r"more than its 18 bytes can hold"):
        read_idx(plain, 1)
    plain.write_bytes(struct.pack(">II", 0x0801, 10) + bytes(11))
    with pytest.raises(TaskError, match=r"= 10 bytes of data, file has more"):
        read_idx(plain, 1)


def test_exact_files_still_read_gzipped_or_plain_and_read_only(tmp_path):
    labels = np.arange(200, dtype=np.uint8) % 10
    payload = struct.pack(">II", 0x0801, 200) + labels.tobytes()
    packed, plain = tmp_path / "a.gz", tmp_path / "a"
    packed.write_bytes(gzip.compress(payload))
    plain.write_bytes(payload)
    for path in (packed, plain):
        got = read_idx(path, 1)
        assert got.tolist() == labels.tolist() and got.dtype == np.uint8 and not got.flags.writeable
    # a second gzip member holding garbage after a complete file is still an error, as before
    packed.write_bytes(gzip.compress(payload) + b"garbage!")
    with pytest.raises(TaskError, match="cannot read IDX file"):
        read_idx(packed, 1)
