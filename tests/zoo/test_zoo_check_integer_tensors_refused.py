"""A network whose stored tensor has the right shape but an integer dtype (an edited shard, hashes updated to match)
does not fit its arch: `check` reports it and `Zoo.stacked` refuses it with a ZooError, as `Zoo.load` does."""

from __future__ import annotations

import sqlite3

import pytest
import torch
from safetensors.torch import load_file, save_file
from zoo_helpers import _copy

from metanet.errors import ZooError
from metanet.zoo import Zoo
from metanet.zoo.store import file_sha256, tensor_sha256


def test_an_integer_tensor_of_the_right_shape_is_reported_and_refused(small_zoo, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    shard = z / "shards" / "00000.safetensors"
    tensors = load_file(str(shard))
    key = sorted(k for k in tensors if k.startswith("0/"))[0]
    tensors[key] = tensors[key].round().to(torch.int32)
    save_file(tensors, str(shard))
    own = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("0/")}
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.execute("UPDATE units SET sha256=? WHERE unit=0", (file_sha256(shard),))
    con.execute("UPDATE nets SET sha256=? WHERE id=0", (tensor_sha256(own),))
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        rep = zoo.check()
        assert len(rep.problems) == 1, rep.problems
        assert rep.problems[0].startswith("network 0: its tensors do not fit its arch")
        assert "expected floating point" in rep.problems[0]
        with pytest.raises(ZooError, match="network 0"):
            zoo.load(0)
        with pytest.raises(ZooError, match="expected floating point"):
            zoo.stacked([0, 1])
