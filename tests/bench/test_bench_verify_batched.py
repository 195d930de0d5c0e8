"""bench/verify_batched.py: bad sizes, task and architecture are usage errors before any work; a tiny run writes strict
JSON into a new folder.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

import pytest

from bench_helpers import load_bench
from bench_helpers import strict_json as _strict
from bench_helpers import usage_error as _usage_error


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
