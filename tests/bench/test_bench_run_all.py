"""bench/run_all.py: the table it writes from the benchmarks' JSON, and its argument errors."""

from __future__ import annotations

import json

import pytest


def test_table_reads_figures_and_judges_goals(run_all, tmp_path):
    (tmp_path / "results" / "zoo_throughput.json").write_text(json.dumps({"speedup": 12.5, "fraction_of_matmul": 0.4}))
    (tmp_path / "results" / "verify_batched.json").write_text("not json")
    assert run_all.main(["--table-only", "--full", "--results", str(tmp_path / "RESULTS.md")]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| #")]
    assert len(rows) == sum(len(b.figures) for b in run_all.BENCHES)
    speed = next(r for r in rows if "one network at a time" in r)
    frac = next(r for r in rows if "fraction" in r or "matmul" in r)
    assert "12.5x" in speed and speed.rstrip(" |").endswith("yes")
    assert "0.400" in frac and frac.rstrip(" |").endswith("no")
    assert "not run" in next(r for r in rows if "vectorised verify" in r)  # unreadable JSON is not a number
    assert "cores" in text  # the machine is described


def test_unknown_benchmark_is_an_error_naming_the_valid_ones(run_all, capsys):
    with pytest.raises(SystemExit) as e:
        run_all.main(["--only", "verify_batched,nope"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err and "zoo_throughput" in err


def test_get_walks_dicts_and_lists(run_all):
    d = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert run_all.get(d, "a.b.1.c") == 2
    assert run_all.get(d, "a.b.5.c", "x") == "x"
    assert run_all.get(d, "a.z") is None
