"""`Store.write_unit` inserts a unit's rows and its ``units`` row in one transaction: an error part-way through the
rows (here a row missing a column) rolls back the ones inserted before it, so the unit is not done and no network
row of it is left; committing what was inserted made a half unit look built."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save

from metanet.zoo.store import NET_COLUMNS, Store


def _row(i: int) -> dict:
    return {"id": i, "run": i, "recipe": "r", "task": "digits", "arch": "{}", "arch_str": "mlp:1-1", "family": "mlp",
            "hparams": "{}", "seed": i, "epoch": 0, "train_acc": 0.5, "val_acc": 0.5, "test_acc": 0.5,
            "test_loss": 1.0, "backdoor": None, "diverged": 0, "sha256": "x"}


def test_a_failed_row_rolls_back_the_units_rows_and_leaves_it_not_done(tmp_path):
    assert set(_row(0)) == set(NET_COLUMNS) - {"shard", "unit", "created"}
    shard = save({"0/w": torch.zeros(1), "1/w": torch.ones(1)})
    bad = _row(1)
    del bad["sha256"]
    with Store(tmp_path / "z", create=True) as s:
        s.lock()
        with pytest.raises(KeyError, match="sha256"):
            s.write_unit(0, shard, [_row(0), bad])
        assert s.rows() == [] and s.done_units() == set() and s.count_units() == 0
        assert not s.conn.in_transaction
        s.write_unit(0, shard, [_row(0), _row(1)])  # the unit is written in full afterwards
        assert [r["id"] for r in s.rows()] == [0, 1] and s.done_units() == {0}
