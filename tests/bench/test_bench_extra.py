"""bench/*.py: argument errors before any work, output paths of quick runs, strict JSON, run_all's table edge cases.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder: the
committed results in bench/results are never touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench_helpers import load_bench


def _strict(text: str):
    def bad(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=bad)


def _usage_error(main, argv: list[str], needle: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err
    assert needle in err, (argv, err)
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------- verify_batched
def test_verify_batched_bad_sizes_task_and_arch_are_usage_errors(monkeypatch, tmp_path, capsys):
    mod = load_bench("verify_batched", monkeypatch)
    out = str(tmp_path / "v.json")
    small = ["--task", "digits", "--arch", "mlp:64-8-10:relu", "--repeats", "1", "--out", out]
    _usage_error(mod.main, ["--k", "0", *small], "--k must be >= 1, got 0", capsys)  # was: run with K=64
    _usage_error(mod.main, ["--k", "-2", *small], "--k must be >= 1", capsys)  # was: ArchError traceback
    _usage_error(mod.main, ["--repeats", "0", "--k", "2", *small[:-4], "--out", out], "--repeats", capsys)
    _usage_error(mod.main, ["--task", "nope", "--out", out], "nope", capsys)
    _usage_error(mod.main, ["--task", "digits", "--out", out], "784", capsys)  # default arch does not fit digits
    assert not (tmp_path / "v.json").exists()


def test_verify_batched_tiny_run_is_strict_json(monkeypatch, tmp_path, capsys):
    mod = load_bench("verify_batched", monkeypatch)
    out = tmp_path / "new dir" / "v.json"
    assert mod.main(["--k", "2", "--repeats", "1", "--task", "digits", "--arch", "mlp:64-8-10:relu",
                     "--out", str(out)]) == 0
    d = _strict(out.read_text())
    assert d["k"] == 2 and d["repeats"] == 1 and d["accuracies_equal"] is True
    assert d["speedup"] == pytest.approx(d["loop_seconds"] / d["batched_seconds"], rel=0.01)  # of the medians


# ---------------------------------------------------------------------------------------------- graph_encode
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


# ---------------------------------------------------------------------------------------------- zoo_throughput
def test_zoo_throughput_bad_arguments_are_usage_errors(monkeypatch, tmp_path, capsys):
    mod = load_bench("zoo_throughput", monkeypatch)
    for argv, needle in [
        (["--checkpoints", "a,b"], "--checkpoints"),  # was: ValueError traceback
        (["--population", "0"], "--population must be >= 1"),
        (["--repeats", "0"], "--repeats must be >= 1"),  # was: silently 1 repeat
        (["--sequential", "-1"], "--sequential must be >= 1"),  # was: silently 1 run
        (["--task", "nope"], "nope"),  # was: RecipeError traceback
        (["--checkpoints", "5", "--task", "digits"], "past the largest train.epochs"),
        (["--out", str(tmp_path)], "is a directory"),
    ]:
        _usage_error(mod.main, argv, needle, capsys)


def test_zoo_throughput_out_in_a_new_folder(monkeypatch, tmp_path, capsys):
    mod = load_bench("zoo_throughput", monkeypatch)
    monkeypatch.setattr(mod, "matmul_gflops", lambda n=1024, seconds=2.0: 1.0)  # the machine's rate: not tested
    out = tmp_path / "new dir" / "z.json"  # was: FileNotFoundError after the whole run
    res = mod.main(["--population", "2", "--sequential", "1", "--task", "digits", "--repeats", "1", "--epochs", "1",
                    "--checkpoints", "1", "--train-examples", "64", "--width", "8", "--depth", "1",
                    "--out", str(out)])
    d = _strict(out.read_text())
    assert d == json.loads(json.dumps(res)) and d["population"] == 2 and d["sequential_measured_runs"] == 1
    assert d["max_abs_diff_vs_plain_loop"] < 1e-4  # vectorised members equal the plain loop


# ---------------------------------------------------------------------------------------------- reader
def test_reader_missing_zoo_says_how_to_build_it(monkeypatch, tmp_path, capsys):
    mod = load_bench("reader", monkeypatch)
    missing = tmp_path / "zoos" / "backdoor-mlp"
    _usage_error(mod.main, ["--zoos", str(missing)], f"metanet zoo build backdoor-mlp --out {missing}", capsys)
    _usage_error(mod.main, ["--zoos", str(tmp_path / "elsewhere")], "elsewhere", capsys)
    _usage_error(mod.main, ["--zoos", str(tmp_path), "--reader", str(tmp_path / "r.safetensors")], "--zoos", capsys)


def test_reader_undefined_figures_are_null_in_strict_json(monkeypatch, tmp_path, tiny_zoo, capsys):
    mod = load_bench("reader", monkeypatch)
    monkeypatch.setattr(mod, "speed", lambda reader, threads, **kw: {"networks_per_minute": 1})  # not measured here
    out = tmp_path / "r.json"
    # one test network per zoo: Kendall tau and R^2 are undefined (NaN), which json.dumps wrote as NaN
    mod.main(["--zoos", str(tiny_zoo), "--max-nets", "20", "--max-test", "1", "--no-generated", "--exclude-archs",
              "--threads", "1", "--out", str(out)])
    d = _strict(out.read_text())
    assert d["pooled"]["test_networks"] == 1 and d["pooled"]["reader_tau"] is None


def test_reader_bootstrap_without_two_classes_is_no_interval(monkeypatch):
    import torch

    mod = load_bench("reader", monkeypatch)
    from metanet.reader.lightning import auroc

    one_run = mod.run_bootstrap(torch.tensor([0.1, 0.9]), torch.tensor([0.0, 1.0]), torch.tensor([3, 3]), auroc, n=5)
    assert one_run == [1.0, 1.0]
    # with one label only, no resample has an AUROC
    only_pos = mod.run_bootstrap(torch.tensor([0.1, 0.9]), torch.tensor([1.0, 1.0]), torch.tensor([1, 2]), auroc, n=5)
    assert only_pos == [None, None]  # was: IndexError from np.percentile of nothing


# ---------------------------------------------------------------------------------------------- repair
def test_repair_argument_errors(monkeypatch, tmp_path, capsys):
    mod = load_bench("repair", monkeypatch)
    out = str(tmp_path / "r.json")
    for argv, needle in [
        (["--modes", "knwon"], "--modes"),  # was: no repair at all, exit 0
        (["--limit", "0"], "--limit must be >= 1"),
        (["--skip", "-1"], "--skip must be >= 0"),
        (["--blind-limit", "-2"], "--blind-limit"),
        (["--workers", "0"], "--workers must be >= 1"),
    ]:
        _usage_error(mod.main, [*argv, "--out", out], needle, capsys)
    _usage_error(mod.main, ["--out", str(tmp_path)], "is a directory", capsys)
    assert not Path(out).exists()


def test_repair_quick_default_output_is_the_quick_file(monkeypatch, tmp_path, capsys):
    mod = load_bench("repair", monkeypatch)
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    seen = {}

    def fake_backdoor_bench(zoo, limit, blind_limit, workers, modes, skip, runs):
        seen.update(limit=limit, modes=modes)
        return {"summary": {}}

    monkeypatch.setattr(mod, "backdoor_bench", fake_backdoor_bench)
    assert mod.main(["--quick", "--no-pruning", "--modes", "known"]) == 0
    results = tmp_path / "bench" / "results"
    assert not (results / "repair.json").exists()  # was: a CI run overwrote the full-size figures
    d = _strict((results / "repair.quick.json").read_text())
    assert d["quick"] is True and seen == {"limit": 4, "modes": ("known",)}


# ---------------------------------------------------------------------------------------------- loop
@pytest.mark.parametrize("argv,needle", [
    (["--methods", "expert,bogus"], "bogus"),
    (["--methods", "expert,"], None),  # a trailing comma is not a method named ''
    (["--methods", "awr", "--candidates", "1"], "candidates >= 2"),
    (["--folds", "1"], "folds >= 2"),
    (["--selection-seeds", "0"], "--selection-seeds must be >= 1"),
    (["--tasks", "0"], "--tasks must be >= 1"),  # was: all tasks
    (["--rounds", "0"], "--rounds must be >= 1"),  # was: the default 10 rounds
    (["--candidates", "0"], "candidates >= 1"),
    (["--writer", "/nonexistent/w.safetensors"], "/nonexistent/w.safetensors"),
], ids=["method", "trailing-comma", "awr-k1", "folds", "selection-seeds", "tasks", "rounds", "candidates", "writer"])
def test_loop_arguments_are_checked_before_any_work(monkeypatch, tmp_path, capsys, argv, needle):
    mod = load_bench("loop", monkeypatch)
    out = str(tmp_path / "l.json")
    if needle is None:  # valid: stop at the first piece of work, the writer
        monkeypatch.setattr(mod.G, "load_writer", lambda path: (_ for _ in ()).throw(RuntimeError("reached")))
        with pytest.raises(RuntimeError, match="reached"):
            mod.main([*argv, "--out", out])
    else:
        _usage_error(mod.main, [*argv, "--out", out], needle, capsys)
    assert not Path(out).exists()


# ---------------------------------------------------------------------------------------------- scale_out
def test_scale_out_argument_errors_before_ray_starts(monkeypatch, tmp_path, capsys):
    mod = load_bench("scale_out", monkeypatch)
    monkeypatch.setattr(mod, "ray_build", lambda *a: pytest.fail("Ray started on bad arguments"))
    for argv, needle in [
        (["--recipe", "no-such-recipe"], "no-such-recipe"),
        (["--steps", "1"], "--steps must be >= 2"),  # was: ZeroDivisionError after both zoo builds
        (["--steps", "0"], "--steps must be >= 2"),  # was: the default 40
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--out", str(tmp_path)], "is a directory"),
    ]:
        _usage_error(mod.main, argv, needle, capsys)


# ---------------------------------------------------------------------------------------------- run_all


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
