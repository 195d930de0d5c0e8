"""``zoo info`` figures and ``Zoo.dataset`` targets are the index rows' own values, recomputed here from the rows.

The summary is what a user reads to judge a zoo (accuracy spread per epoch, attack success of the poisoned runs) and
the dataset targets are what a reader is trained on; both are recomputed with numpy / plain Python from the
``nets`` rows read with sqlite3, not through :class:`~metanet.zoo.NetInfo`.
"""

from __future__ import annotations

import copy
import json
import math
import sqlite3
from collections import Counter

import numpy as np
import pytest

from metanet.nets import ACTIVATIONS
from metanet.zoo import Zoo, build
from metanet.zoo.dataset import TARGETS
from metanet.zoo.zoo import format_summary

RECIPE = {
    "name": "summary-rows", "seed": 3, "count": 8, "population": 8, "tasks": ["digits", "digits[0-4]"],
    "checkpoints": [0, 1], "arch": {"family": "mlp", "depth": 1, "width": [8, 16], "activation": ["relu", "tanh"]},
    "train": {"optimizer": ["adam", "sgd"], "lr": {"log_uniform": [3.0e-3, 3.0e-2]}, "batch_size": 64,
              "epochs": [1, 2], "train_examples": 300, "weight_decay": [0.0, 1.0e-4], "dropout": [0.0, 0.1]},
    "eval": {"train_examples": 100},
    "backdoor": {"fraction": 0.5, "size": 2, "poison_rate": {"uniform": [0.1, 0.2]}},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("summary") / "z"
    build(copy.deepcopy(RECIPE), out, progress=False)
    con = sqlite3.connect(str(out / "index.sqlite"))
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM nets ORDER BY id")]
    con.close()
    for r in rows:
        r["hparams"] = json.loads(r["hparams"])
        r["backdoor"] = json.loads(r["backdoor"]) if r["backdoor"] else None
        r["final"] = r["epoch"] == r["hparams"]["epochs"]
    with Zoo(out) as zoo:
        yield zoo, rows


def _q(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    return {"n": len(v), "min": v.min(), "q25": np.quantile(v, 0.25), "median": np.quantile(v, 0.5),
            "q75": np.quantile(v, 0.75), "max": v.max(), "mean": v.mean()}


def _same(got: dict | None, want: dict) -> None:
    assert got is not None and set(got) == set(want)
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-12), k


def test_summary_figures_are_the_rows_figures(built):
    zoo, rows = built
    s = zoo.summary()
    finals = [r for r in rows if r["final"]]
    poisoned = [r for r in finals if r["backdoor"]]
    assert 0 < len(poisoned) < len(finals) and len({r["epoch"] for r in finals}) == 2  # runs of 1 and 2 epochs
    assert (s["networks"], s["runs"]) == (len(rows), len({r["run"] for r in rows}))
    assert s["tasks"] == dict(Counter(r["task"] for r in rows)) and s["epochs"] == dict(Counter(r["epoch"] for r in rows))
    assert s["archs"] == dict(Counter(r["arch_str"] for r in rows))
    _same(s["test_acc"], _q([r["test_acc"] for r in rows]))
    _same(s["test_acc_final"], _q([r["test_acc"] for r in finals]))
    for e, q in s["test_acc_by_epoch"].items():
        _same(q, _q([r["test_acc"] for r in rows if r["epoch"] == e]))
    b = s["backdoor"]
    assert b["poisoned_networks"] == sum(r["backdoor"] is not None for r in rows)
    assert b["clean_networks"] == sum(r["backdoor"] is None for r in rows) and b["poisoned_runs"] == len(poisoned)
    _same(b["asr_final"], _q([r["backdoor"]["asr"] for r in poisoned]))
    _same(b["clean_acc_final"], _q([r["backdoor"]["clean_acc"] for r in poisoned]))
    _same(b["clean_runs_acc_final"], _q([r["test_acc"] for r in finals if not r["backdoor"]]))
    assert s["diverged_runs"] == len({r["run"] for r in rows if r["diverged"]})
    # `metanet zoo info` prints these figures, rounded to three places
    text = format_summary(s)
    want = _q([r["backdoor"]["asr"] for r in poisoned])
    assert (f"attack success (final)   min {want['min']:.3f}  q25 {want['q25']:.3f}  median {want['median']:.3f}  "
            f"q75 {want['q75']:.3f}  max {want['max']:.3f}  (n={len(poisoned)})") in text


def _expected(r: dict, target: str, tasks: list[str]) -> float:
    h, b = r["hparams"], r["backdoor"]
    if target in ("test_acc", "val_acc", "train_acc", "test_loss", "epoch"):
        return r[target]
    return {"backdoor": float(b is not None), "asr": b["asr"] if b else 0.0,
            "backdoor_target": b["target"] if b else -1, "task": tasks.index(r["task"]),
            "activation": list(ACTIVATIONS).index(h["activation"]),
            "optimizer": ["sgd", "adam", "adamw"].index(h["optimizer"]), "log_lr": math.log10(h["lr"]),
            }.get(target, h.get(target))


def test_every_dataset_target_is_the_rows_value(built):
    zoo, rows = built
    by_id = {r["id"]: r for r in rows}
    tasks = sorted({r["task"] for r in rows})
    for target in TARGETS:
        ds = zoo.dataset(split="all", target=target)
        assert sorted(ds.ids) == sorted(by_id)
        for i, nid in enumerate(ds.ids):
            want = _expected(by_id[nid], target, tasks)
            assert ds.target(i).item() == pytest.approx(want, rel=1e-6, abs=1e-7), (target, nid)
    both = zoo.dataset(split="all", target=["asr", "val_acc"])
    for i, nid in enumerate(both.ids):
        assert both.target(i)[0].tolist() == pytest.approx([_expected(by_id[nid], "asr", tasks), by_id[nid]["val_acc"]])
