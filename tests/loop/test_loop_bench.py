"""``bench/loop.py`` end to end at a tiny size: one held-out task, one round, both selections side by side."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_loop", ROOT / "bench" / "loop.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_loop_bench_reports_both_selections(tmp_path, capsys):
    from metanet.writer import Writer

    torch.manual_seed(0)
    wpath = tmp_path / "writer.safetensors"
    Writer(hidden=8, message=4).save(wpath)
    out = tmp_path / "loop.json"
    rc = _bench().main(["--quick", "--tasks", "1", "--rounds", "1", "--methods", "expert,distil_all", "--candidates",
                        "3", "--folds", "3", "--selection-seeds", "2", "--refine-steps", "2", "--writer", str(wpath),
                        "--compare-rounds", "--out", str(out)])
    assert rc == 0
    d = json.loads(out.read_text())
    assert d["config"]["selection"] == "val" and d["config"]["tasks"] == 1
    for sel in ("val", "crossfit"):
        assert f"best_of_k_minus_k1_{sel}" in d["zero_shot"] and f"minus_mean_{sel}" in d["selection_margins"]
        assert d["headline"]["best_of_k_minus_k1_by_selection"][sel] is not None
    assert d["selection_margins"]["pairs"] == 2
    z = d["zero_shot"]
    assert z["test_mean_candidate"] <= z["test_oracle"] and z["test_best_of_k_val"] <= z["test_oracle"]
    assert set(d["methods"]) == {"expert", "distil_all"} and d["winner"] in d["methods"]
    curve = d["methods"]["expert"]["curve"]
    assert [c["round"] for c in curve] == [0, 1] and curve[0]["test_best_of_k_crossfit"] is not None
    assert len(d["refinement"]["tasks"]) == 1
    row = d["refinement"]["tasks"][0]
    assert all(0.0 <= row[m] <= 1.0 for m in ("before", "perturbation", "activity", "sgd"))
    assert d["headline"]["after_activity_refinement"] == d["refinement"]["activity_mean"]
    assert json.loads(capsys.readouterr().out)["winner"] == d["winner"]
