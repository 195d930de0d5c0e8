"""The ``asr`` dataset target of a poisoned network whose attack success rate is null in the index (a rate that was not
finite when measured is written as null) is unknown, NaN, as a null column (``test_acc``) is and as the same rate
stored as NaN was; it was a false 0.0 ("the attack failed"). Clean networks stay 0.0."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest
from zoo_helpers import _copy

from metanet.zoo import Zoo


TRIGGER = {"kind": "patch", "size": 2, "location": [5, 5], "placement": "fixed", "pattern": "white", "target": 3,
           "poison_rate": 0.1, "clean_acc": 0.25}


def _with_asr(small_zoo, tmp_path, name, asr):
    """A copy of the (clean) zoo whose run 0's final network is poisoned, with attack success rate ``asr`` (None:
    null, as the build writes a rate that was not finite); its id."""
    z = _copy(small_zoo, tmp_path / name)
    con = sqlite3.connect(str(z / "index.sqlite"))
    with con:
        (nid,) = con.execute("SELECT MAX(id) FROM nets WHERE run = 0").fetchone()
        con.execute("UPDATE nets SET backdoor = ? WHERE id = ?", (json.dumps({**TRIGGER, "asr": asr}), nid))
    con.close()
    return z, nid


def _targets(z):
    with Zoo(z) as zoo:
        ds = zoo.dataset(split="all", target=["backdoor", "asr"])
        return {n.id: ds.target(i)[0].tolist() for i, n in enumerate(ds.nets)}


@pytest.mark.parametrize("asr", [None, math.nan])
def test_an_unknown_attack_success_rate_is_nan_not_zero(small_zoo, tmp_path, asr):
    z, nid = _with_asr(small_zoo, tmp_path, str(asr), asr)
    targets = _targets(z)
    backdoor, rate = targets[nid]
    assert backdoor == 1.0 and math.isnan(rate)
    # the clean networks: no attack, a rate of 0.0
    assert {tuple(t) for i, t in targets.items() if t[0] == 0.0} == {(0.0, 0.0)}


def test_a_measured_attack_success_rate_is_the_target(small_zoo, tmp_path):
    z, nid = _with_asr(small_zoo, tmp_path, "measured", 0.8125)
    assert _targets(z)[nid] == [1.0, 0.8125]
    z, nid = _with_asr(small_zoo, tmp_path, "zero", 0.0)  # a measured 0.0 stays 0.0
    assert _targets(z)[nid] == [1.0, 0.0]
