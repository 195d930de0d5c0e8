"""bench/loop.py, method ``expert_refined`` (issue 8 point 5): expert iteration whose teacher is the round's winner
refined by activity perturbation (``LoopConfig.refine_steps``), requested by name like ``distil_all``.

Tiny and stubbed, as in test_bench_loop.py: no writer, no data, the committed results are never touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench_helpers import load_bench
from bench_helpers import usage_error as _usage_error
from test_bench_loop import _stub_loop


@pytest.mark.parametrize("argv,needle", [
    (["--methods", "expert_refined", "--loop-refine-steps", "0"], "--loop-refine-steps must be >= 1"),
    (["--methods", "expert_refined", "--loop-refine-steps", str(10 ** 10)], "refine_steps"),  # LoopConfig's bound
    (["--methods", "expert_refined,expert_refined"], "expert_refined"),  # distinct names
    (["--methods", "expert_refine"], "expert_refined"),  # a typo names the valid ones, the new one among them
    (["--methods", "expert", "--loop-refine-steps", "7"], "applies to method expert_refined only"),  # was ignored
], ids=["zero-steps", "too-many-steps", "duplicate", "typo", "steps-without-expert-refined"])
def test_expert_refined_arguments_are_checked_before_any_work(monkeypatch, tmp_path, capsys, argv, needle):
    mod = load_bench("loop", monkeypatch)
    out = tmp_path / "l.json"
    _usage_error(mod.main, [*argv, "--out", str(out)], needle, capsys)
    assert not out.exists()


def test_expert_refined_is_a_valid_method(monkeypatch, tmp_path):
    mod = load_bench("loop", monkeypatch)
    # valid: the run gets past every check to its first piece of work, the writer (was: a usage error)
    monkeypatch.setattr(mod.G, "load_writer", lambda path: (_ for _ in ()).throw(RuntimeError("reached")))
    with pytest.raises(RuntimeError, match="reached"):
        mod.main(["--methods", "expert,expert_refined", "--loop-refine-steps", "7", "--out", str(tmp_path / "l.json")])


def test_expert_refined_runs_expert_iteration_with_a_refined_teacher(monkeypatch, tmp_path):
    mod = load_bench("loop", monkeypatch, prefix="bench_n1")
    _stub_loop(mod, monkeypatch)
    calls = {}
    stub_improve = mod.improve

    def improve(w, *a, **k):
        calls[len(calls)] = k
        return stub_improve(w, *a, **k)

    monkeypatch.setattr(mod, "improve", improve)
    out = tmp_path / "loop.json"
    argv = ["--methods", "expert,expert_refined,distil_all", "--loop-refine-steps", "7", "--rounds", "1",
            "--selection-seeds", "2", "--out", str(out)]
    assert mod.main(argv) == 0
    plain, refined, every = calls[0], calls[1], calls[2]
    assert plain["method"] == refined["method"] == every["method"] == "expert"
    assert "refine_steps" not in plain and "refine_steps" not in every and every["keep"] == 8
    assert refined["refine_steps"] == 7 and refined["refine_method"] == "activity" and "keep" not in refined
    d = json.loads(Path(out).read_text())
    assert set(d["methods"]) == {"expert", "expert_refined", "distil_all"}
    assert d["config"]["loop_refine_steps"] == 7
    assert set(d["headline"]["final_by_method"]) == {"expert", "expert_refined", "distil_all"}


def test_loop_refine_steps_recorded_only_when_used(monkeypatch, tmp_path):
    mod = load_bench("loop", monkeypatch, prefix="bench_n1b")
    _stub_loop(mod, monkeypatch)
    out = tmp_path / "loop.json"
    assert mod.main(["--methods", "expert", "--rounds", "1", "--selection-seeds", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["loop_refine_steps"] is None
