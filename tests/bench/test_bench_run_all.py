"""bench/run_all.py: the table it writes from the benchmarks' JSON (controls without a control, a quick table never
showing the full blind figure), its argument errors, and a run that goes on when a zoo cannot be built (trying a
failed zoo only once).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_helpers import usage_error as _usage_error


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


def _repair(quick: bool, blind: bool) -> dict:
    summ = {"known": {"all": {"success_rate": 1.0, "n": 4}, "controls": {"n": 0, "drop_points_max": None}}}
    if blind:
        summ["blind"] = {"all": {"success_rate": 0.5, "n": 2}, "controls": {"n": 2, "drop_points_max": 0.3}}
    return {"quick": quick, "backdoor": {"summary": summ}}


def test_run_all_controls_without_a_control_is_not_a_crash(run_all, tmp_path):
    (tmp_path / "results" / "repair.json").write_text(json.dumps(_repair(False, blind=False)))
    # was: TypeError ('>' between None and int) from max() while the table was written, after every run
    assert run_all.main(["--table-only", "--full", "--results", str(tmp_path / "R.md")]) == 0
    row = next(r for r in (tmp_path / "R.md").read_text().splitlines() if "clean controls" in r)
    assert "n/a" in row and not row.rstrip(" |").endswith(("yes", "no"))
    (tmp_path / "results" / "repair.json").write_text(json.dumps(_repair(False, blind=True)))
    run_all.main(["--table-only", "--full", "--results", str(tmp_path / "R.md")])
    row = next(r for r in (tmp_path / "R.md").read_text().splitlines() if "clean controls" in r)
    assert "0.30" in row and row.rstrip(" |").endswith("yes")


def test_run_all_quick_table_never_shows_the_full_blind_figure(run_all, tmp_path):
    (tmp_path / "results" / "repair.blind.json").write_text(json.dumps(_repair(False, blind=True)))
    (tmp_path / "results" / "repair.quick.json").write_text(json.dumps(_repair(True, blind=False)))
    run_all.main(["--table-only", "--results", str(tmp_path / "Rq.md")])
    row = next(r for r in (tmp_path / "Rq.md").read_text().splitlines() if "blind: success" in r)
    assert "n/a" in row and "0.500" not in row  # was: the full-size repair.blind.json in the CI-size table
    (tmp_path / "results" / "repair.json").write_text(json.dumps(_repair(False, blind=False)))
    run_all.main(["--table-only", "--full", "--results", str(tmp_path / "R.md")])
    row = next(r for r in (tmp_path / "R.md").read_text().splitlines() if "blind: success" in r)
    assert "0.500 (n=2)" in row  # the full table still takes blind repair from its own file


def test_run_all_results_directory_is_a_usage_error(run_all, tmp_path, capsys):
    _usage_error(run_all.main, ["--table-only", "--results", str(tmp_path)], "is a directory", capsys)


def test_run_all_goes_on_when_a_zoo_build_fails(run_all, tmp_path, monkeypatch, capsys):
    # the docstring promises that a failing benchmark is reported and the run goes on: a zoo that could not be
    # built was a traceback that stopped the whole run (and wrote no table)
    import metanet.zoo

    def failing_build(recipe, out, **kw):
        raise OSError(f"No space left on device: {out}")

    ran = []

    def fake_run(cmd, **kw):
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(metanet.zoo, "build", failing_build)
    monkeypatch.setattr(run_all, "subprocess", SimpleNamespace(run=fake_run))  # not the module: platform uses it
    out = tmp_path / "R.md"
    rc = run_all.main(["--only", "verify_batched,reader,repair", "--zoos", str(tmp_path / "zoos"),
                       "--results", str(out)])
    assert rc == 1
    # the benchmark without zoos still ran; the two that need one were not started
    assert [Path(c[1]).name for c in ran] == ["verify_batched.py"]
    text = out.read_text()
    rows = [r for r in text.splitlines() if r.startswith("| #")]
    reader_rows = [r for r in rows if "[reader]" in r]
    assert reader_rows and all("zoo backdoor-mlp could not be built" in r for r in reader_rows), reader_rows
    assert all("could not be built" in r for r in rows if "[repair]" in r)
    assert "No space left on device" in text  # the cause, in the run times list
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "[run_all] zoo backdoor-mlp could not be built" in captured.out + captured.err


def test_run_all_tries_a_failed_zoo_only_once(run_all, tmp_path, monkeypatch):
    import metanet.zoo
    from metanet.errors import ZooError

    calls = []

    def failing_build(recipe, out, **kw):
        calls.append(Path(recipe).stem)
        raise ZooError("broken recipe")

    monkeypatch.setattr(metanet.zoo, "build", failing_build)
    monkeypatch.setattr(run_all, "subprocess", SimpleNamespace(run=lambda cmd, **kw: pytest.fail(f"ran {cmd}")))
    assert run_all.main(["--only", "reader,repair", "--zoos", str(tmp_path / "zoos"),
                         "--results", str(tmp_path / "R.md")]) == 1
    assert sorted(calls) == sorted(set(calls)), calls  # reader and repair both need tiny/backdoor-mlp
