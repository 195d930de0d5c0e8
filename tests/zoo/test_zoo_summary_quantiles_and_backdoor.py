"""`Zoo.summary()`'s distributions: :func:`metanet.zoo.zoo.quantiles` (linear interpolation, NaNs dropped) and the
backdoor block, which counts poisoned networks over all checkpoints but takes its distributions over the final
checkpoints only, poisoned and clean runs apart. The small zoo has no poisoned run: one is marked in a copy."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest
from zoo_helpers import _copy

from metanet.zoo import Zoo
from metanet.zoo.zoo import quantiles


def test_quantiles_interpolate_linearly_and_drop_nans():
    assert quantiles([]) is None and quantiles([math.nan, None]) is None
    assert quantiles([0.5]) == {"n": 1, "min": 0.5, "q25": 0.5, "median": 0.5, "q75": 0.5, "max": 0.5, "mean": 0.5}
    q = quantiles([0.4, math.nan, 0.0, 0.2, 0.1, None, 0.3])  # 0.0 .. 0.4 unordered, a NaN and a None dropped
    assert q["n"] == 5 and (q["min"], q["max"]) == (0.0, 0.4)
    assert (q["q25"], q["median"], q["q75"]) == (0.1, 0.2, 0.3)
    assert q["mean"] == pytest.approx(0.2)
    q = quantiles([0.0, 1.0])  # between two values: interpolated
    assert (q["q25"], q["median"], q["q75"], q["mean"]) == (0.25, 0.5, 0.75, 0.5)


def test_summary_backdoor_block_counts_networks_and_takes_final_checkpoints(small_zoo, small_recipe, tmp_path):
    z = _copy(small_zoo, tmp_path / "z")
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.execute("UPDATE nets SET backdoor=? WHERE run=0", (json.dumps({"target": 0, "asr": 0.9}),))
    con.execute("UPDATE nets SET backdoor=? WHERE run=0 AND epoch=0", (json.dumps({"target": 0, "asr": 0.1}),))
    con.commit()
    con.close()
    with Zoo(z) as zoo:
        s = zoo.summary()
        finals = zoo.select(final=True)
    n_ck, runs = len(small_recipe["checkpoints"]), small_recipe["count"]
    b = s["backdoor"]
    assert (b["poisoned_networks"], b["clean_networks"], b["poisoned_runs"]) == (n_ck, (runs - 1) * n_ck, 1)
    assert b["asr_final"]["n"] == 1 and b["asr_final"]["max"] == 0.9  # the epoch-0 ASR is no final checkpoint's
    poisoned_final = [n.test_acc for n in finals if n.run == 0]
    clean_final = [n.test_acc for n in finals if n.run != 0]
    assert b["clean_acc_final"] == quantiles(poisoned_final)
    assert b["clean_runs_acc_final"] == quantiles(clean_final) and b["clean_runs_acc_final"]["n"] == runs - 1
    assert s["test_acc_final"] == quantiles(poisoned_final + clean_final)
