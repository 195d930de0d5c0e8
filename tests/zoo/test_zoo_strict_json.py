"""The zoo index holds strict JSON: a non-finite attack success rate in a network's ``backdoor`` column, or a
non-finite value given to ``Store.set_meta``, is written as null (plain ``json.dumps`` wrote ``NaN``, which strict
JSON readers refuse); finite values keep their exact bytes (the zoo determinism tests compare rows bit for bit), and
metanet's readers (``Zoo``, ``Zoo.summary()``, ``metanet zoo info``) read null as they read NaN."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest
import torch
from zoo_helpers import _copy

from metanet.cli import main
from metanet.zoo import Zoo
from metanet.zoo.build import _rows
from metanet.zoo.recipe import Arch, RunSpec
from metanet.zoo.store import Store
from metanet.zoo.train import Checkpoint, RunResult

TRIGGER = {"kind": "patch", "size": 2, "location": [5, 5], "placement": "fixed", "pattern": "white", "target": 3,
           "poison_rate": 0.1}


def strict(text: str):
    """``json.loads`` that refuses NaN and ±Infinity, as strict JSON readers (and other languages) do."""
    def refuse(constant: str):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _backdoor_column(asr: float) -> str:
    run = RunSpec(0, "digits", Arch("mlp", (64, 4, 10), "relu"), {"optimizer": "adam", "lr": 1e-2}, 5, [1], TRIGGER)
    metrics = {"train_acc": 0.5, "val_acc": 0.5, "test_acc": 0.25, "test_loss": 2.0, "asr": asr}
    ck = Checkpoint(1, {"layers.0.weight": torch.zeros(4, 64)}, metrics)
    _, rows = _rows({"name": "r"}, [RunResult(run, [ck])])
    return rows[0]["backdoor"]


@pytest.mark.parametrize("asr", [math.nan, math.inf])
def test_a_non_finite_attack_success_rate_is_written_as_null(asr):
    column = _backdoor_column(asr)
    assert strict(column) == {**TRIGGER, "asr": None, "clean_acc": 0.25}


def test_a_finite_attack_success_rate_keeps_its_bytes():
    want = {**TRIGGER, "asr": 0.8125, "clean_acc": 0.25}
    assert _backdoor_column(0.8125) == json.dumps(want, sort_keys=True)


def test_set_meta_writes_strict_json_and_keeps_finite_bytes(tmp_path):
    with Store(tmp_path / "z", create=True) as s:
        finite = {"limit": [1.5, 2], "cfg": {"b": 0.1, "a": 3}}
        s.set_meta(bad=math.nan, nested={"x": -math.inf, "y": 0.1}, text="NaN", **finite)
        meta = s.meta()
    assert meta["bad"] == "null" and strict(meta["nested"]) == {"x": None, "y": 0.1}
    assert meta["text"] == "NaN"  # strings are stored as they are
    for k, v in finite.items():
        assert meta[k] == json.dumps(v)


def test_readers_take_null_as_they_took_nan(small_zoo, tmp_path, capsys):
    """The same zoo with the attack success rate of one final network written as null (now) and as NaN (before):
    ``Zoo`` reads the row, and ``summary()`` and ``metanet zoo info`` say the same of both."""
    seen = {}
    for name, column in (("null", _backdoor_column(math.nan)),
                         ("nan", json.dumps({**TRIGGER, "asr": math.nan, "clean_acc": 0.25}, sort_keys=True))):
        z = _copy(small_zoo, tmp_path / name)
        con = sqlite3.connect(str(z / "index.sqlite"))
        with con:
            (nid,) = con.execute("SELECT MAX(id) FROM nets WHERE run = 0").fetchone()
            con.execute("UPDATE nets SET backdoor = ? WHERE id = ?", (column, nid))
        con.close()
        with Zoo(z) as zoo:
            (net,) = zoo.select(backdoor=True)
            asr = net.backdoor["asr"]
            assert asr is None if name == "null" else math.isnan(asr)
            summary = zoo.summary()["backdoor"]
        assert main(["zoo", "info", str(z)]) == 0
        seen[name] = (summary, capsys.readouterr().out.replace(str(z), "ZOO"))
    assert seen["null"] == seen["nan"]
    summary, text = seen["null"]
    assert summary["poisoned_runs"] == 1 and summary["asr_final"] is None
    assert "attack success (final)   -" in text
