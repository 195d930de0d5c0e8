"""bench/graph_encode.py: a quick run does not overwrite the full results; bad sizes are usage errors.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

from pathlib import Path

from bench_helpers import load_bench
from bench_helpers import strict_json as _strict
from bench_helpers import usage_error as _usage_error


def test_graph_encode_quick_run_does_not_overwrite_the_full_results(monkeypatch, tmp_path, capsys):
    mod = load_bench("graph_encode", monkeypatch)
    monkeypatch.setattr(mod, "ROOT", tmp_path)  # the default output goes under tmp_path/bench/results
    monkeypatch.setattr(mod, "SINGLE", [("mlp:64-8-10:relu", (1, 8, 8))])
    monkeypatch.setattr(mod, "POPULATION", ["mlp:64-8-10:relu"])
    mod.main(["--quick", "--population", "2"])
    results = tmp_path / "bench" / "results"
    assert not (results / "graph_encode.json").exists()  # the committed full-size figures
    d = _strict((results / "graph_encode.quick.json").read_text())
    assert d["quick"] is True and d["population"][0]["population"] == 2
    assert d["goal"]["worst_ratio"] == max(max(r["encode_ratio"], r["decode_ratio"]) for r in d["single"])


def test_graph_encode_bad_sizes_are_usage_errors(monkeypatch, tmp_path, capsys):
    mod = load_bench("graph_encode", monkeypatch)
    out = str(tmp_path / "g.json")
    _usage_error(mod.main, ["--quick", "--population", "0", "--out", out], "--population must be >= 1", capsys)
    _usage_error(mod.main, ["--quick", "--threads", "0", "--out", out], "--threads must be >= 1", capsys)
    assert not Path(out).exists()
