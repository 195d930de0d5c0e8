"""bench/loop.py: arguments are checked before any work, and a failing write keeps the previous results file (never a
half-written one).

Every script is run only at tiny sizes and always with an output path (or ROOT) in a temporary folder, and heavy work
is stubbed: the committed results in bench/results are never touched.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_helpers import load_bench
from bench_helpers import usage_error as _usage_error


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


def _stub_loop(mod, monkeypatch) -> None:
    """bench/loop.py with one fake held-out task and every measurement replaced by fixed figures."""
    sels = mod.SELECTIONS
    lt = SimpleNamespace(name="fake/test[0,1]", check_disjoint=lambda: None, labelled=lambda: None)
    task = {"lt": lt, "arch": "mlp:4-2:relu", "fit": None, "val": None, "full": (None, None), "k": 2,
            "ep": {"query": (None, None)}}
    monkeypatch.setattr(mod, "heldout_tasks", lambda quick, n: [task])
    writer = SimpleNamespace(augment="none", eval=lambda: None)
    monkeypatch.setattr(mod.G, "load_writer", lambda path: (writer, "fake writer"))
    monkeypatch.setattr(mod.G, "sgd_same_examples", lambda *a: {"query": 0.8, "chosen": {"lr": 1e-3, "epochs": 50},
                                                                 "seconds_sweep": 0.0, "seconds_refit": 0.0})
    monkeypatch.setattr(mod.G, "ncm_acc", lambda *a: 0.7)
    row = {"task": lt.name, "k1": 0.8, "mean": 0.8, "oracle": 0.9, "best_of_k": 0.84,
           **{f"best_of_k_{s}": 0.84 for s in sels}}
    ev = {"k1": 0.8, "mean": 0.8, "oracle": 0.9, "best_of_k": 0.84, "tasks": [row],
          **{f"best_of_k_{s}": 0.84 for s in sels}}
    monkeypatch.setattr(mod, "evaluate", lambda *a, **k: ev)
    hist = SimpleNamespace(rounds=[{"round": 1, "seconds": 0.0, "heldout_reward": 0.5}])
    monkeypatch.setattr(mod, "improve", lambda w, *a, **k: (w, hist))
    monkeypatch.setattr(mod, "choose", lambda *a, **k: SimpleNamespace(params=None, index=0))
    monkeypatch.setattr(mod.G, "net_from", lambda *a: None)
    rep = SimpleNamespace(before=SimpleNamespace(accuracy=0.84), after=SimpleNamespace(accuracy=0.86))
    monkeypatch.setattr(mod, "refine", lambda *a, **k: rep)


def _disk_full(monkeypatch) -> None:
    """Every ``Path.write_text`` writes half its text, then fails as a full disk does."""
    def half(self, text, *a, **k):
        with open(self, "w") as f:
            f.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", half)


def test_loop_failed_write_keeps_the_previous_results(monkeypatch, tmp_path, capsys):
    mod = load_bench("loop", monkeypatch, prefix="bench_r28")
    _stub_loop(mod, monkeypatch)
    out = tmp_path / "loop.json"
    argv = ["--methods", "expert", "--rounds", "1", "--selection-seeds", "2", "--out", str(out)]
    assert mod.main(argv) == 0  # the stubs are enough for a whole run
    d = json.loads(out.read_text())
    assert d["zero_shot"]["ratio_vs_sgd"] == round(0.84 / 0.8, 4) and d["winner"] == "expert"
    assert d["refinement"]["sgd_mean"] == 0.86 and d["headline"]["after_sgd_refinement"] == 0.86
    before = out.read_bytes()
    _disk_full(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        mod.main(argv)
    monkeypatch.undo()
    assert out.read_bytes() == before  # was: half a JSON file in place of the last results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.json"]  # no temporary file left
