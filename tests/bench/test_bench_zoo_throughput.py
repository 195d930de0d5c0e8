"""bench/zoo_throughput.py: bad arguments are usage errors; its output in a new folder is strict JSON.

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

import json

from bench_helpers import load_bench
from bench_helpers import strict_json as _strict
from bench_helpers import usage_error as _usage_error


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
