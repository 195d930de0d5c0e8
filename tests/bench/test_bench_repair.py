"""bench/repair.py: argument errors, and a quick run's default output is the quick file.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

from pathlib import Path

from bench_helpers import load_bench
from bench_helpers import strict_json as _strict
from bench_helpers import usage_error as _usage_error


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
