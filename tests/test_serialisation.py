"""What metanet prints and writes: strict JSON (no NaN / Infinity tokens) where values can be non-finite, and short,
informative reprs of result objects."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import sqlite3
import sys
from pathlib import Path

import pytest
import torch

import metanet
from metanet.loop.refine import RefineResult
from metanet.nets import build
from metanet.verify import Report

ROOT = Path(__file__).resolve().parents[1]


def _strict(text: str):
    """``json.loads`` refusing NaN / Infinity, which are not JSON (SQLite's json functions and other tools reject them)."""
    def bad(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=bad)


def _report(accuracy: float = 0.5, loss: float = 1.0) -> Report:
    return Report(accuracy=accuracy, loss=loss, per_class=[accuracy, math.nan], n=10, seconds=0.01, task="digits",
                  split="val")


@pytest.fixture(scope="module")
def generated():
    return metanet.generate("digits", candidates=2, seed=0)


# ---------------------------------------------------------------------------------------------------- inspect


def test_neuron_database_of_a_diverged_network_is_strict_json(tmp_path):
    # a NaN network's loss is inf: its meta row was the invalid JSON text 'Infinity'
    net = build("mlp:64-8-10:relu", seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(math.nan)
    db = metanet.inspect(net, "digits", reader=None, max_examples=60)
    assert db.meta["loss"] == math.inf
    path = db.to_sqlite(tmp_path / "neurons.sqlite")
    con = sqlite3.connect(path)
    try:
        for key, value in con.execute("SELECT key, value FROM meta"):
            _strict(value)
        for row in con.execute("SELECT class_means, ablation_per_class, supports, top_examples FROM neurons"):
            for value in row:
                if value is not None:
                    _strict(value)
        # SQLite's own JSON functions read it (they failed with 'malformed JSON')
        assert con.execute("SELECT json_extract(value, '$') FROM meta WHERE key = 'loss'").fetchone() == (None,)
    finally:
        con.close()
    back = metanet.NeuronDB.load(path)  # metanet's own reader still reads it
    assert back.meta["loss"] is None and back.meta["accuracy"] == db.meta["accuracy"]
    assert len(back) == len(db) and back.ablation_matrix(1).shape == (8, 10)


# ---------------------------------------------------------------------------------------------------- reprs


def test_generated_repr_is_one_short_line_naming_the_result(generated):
    many = dataclasses.replace(generated, candidates=generated.candidates * 16)  # was every module's repr in full
    text = repr(many)
    assert len(text) < 200 and "\n" not in text
    r = generated.report
    assert text.startswith("Generated(") and "'digits'" in text and r.arch in text
    assert f"candidate {r.chosen} of 2" in text and f"test accuracy {r.test.accuracy:.4f}" in text
    assert str(many) == text


def test_generated_repr_without_a_test_score_or_with_a_nan_one(generated):
    none = dataclasses.replace(generated, report=dataclasses.replace(generated.report, test=None))
    assert "test not run" in repr(none)
    nan = dataclasses.replace(generated, report=dataclasses.replace(generated.report, test=_report(math.nan)))
    assert "test accuracy n/a" in repr(nan) and "nan" not in repr(nan)


def test_refine_result_repr_is_short_and_names_the_change(generated):
    res = RefineResult(generated.model, _report(0.5), _report(0.75), [0.1] * 5000)
    text = repr(res)
    assert len(text) < 200 and "\n" not in text  # was the module, both reports and all 5,000 rewards
    assert text == "RefineResult(accuracy 0.5000 -> 0.7500 on digits/val, 5000 steps)"
    assert repr(RefineResult(generated.model, None, None, [])) == "RefineResult(accuracy n/a -> n/a not verified, 0 steps)"
    assert "n/a" in repr(RefineResult(generated.model, _report(math.nan), _report(0.5), [1.0]))
    assert res.after.accuracy == 0.75 and res[3] == [0.1] * 5000  # still the tuple it was


# ---------------------------------------------------------------------------------------------------- bench


def _load_bench(name: str, monkeypatch):
    spec = importlib.util.spec_from_file_location(f"serialisation_bench_{name}", ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def test_verify_batched_bench_writes_strict_json_for_non_finite_figures(monkeypatch, tmp_path, capsys):
    mod = _load_bench("verify_batched", monkeypatch)
    # the measurement stubbed: a ratio over a zero time (inf) and the loss difference of two inf losses (NaN)
    monkeypatch.setattr(mod, "run", lambda *a: {"accuracies_equal": True, "max_loss_diff": math.nan,
                                                 "speedup": math.inf})
    out = tmp_path / "v.json"
    mod.main(["--k", "2", "--repeats", "1", "--task", "digits", "--arch", "mlp:64-8-10:relu", "--out", str(out)])
    d = _strict(out.read_text())
    assert d["speedup"] is None and d["max_loss_diff"] is None and d["accuracies_equal"] is True
    _strict(capsys.readouterr().out)


def test_graph_encode_bench_writes_strict_json_for_non_finite_figures(monkeypatch, tmp_path, capsys):
    mod = _load_bench("graph_encode", monkeypatch)
    monkeypatch.setattr(mod, "single", lambda *a: {"encode_ratio": math.inf, "decode_ratio": 1.0})
    monkeypatch.setattr(mod, "population", lambda *a: {"ratio": math.nan})
    out = tmp_path / "g.json"
    mod.main(["--quick", "--out", str(out)])
    d = _strict(out.read_text())
    assert d["goal"]["worst_ratio"] is None and d["population"][0]["ratio"] is None
    _strict(capsys.readouterr().out)
