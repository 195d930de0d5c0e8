"""bench/*.py, round 28: --help states every default, the docstrings name only real options, and a failing loop or
generate run never leaves a half-written or partial results file where the results go.

Heavy work is stubbed: only the scripts' own argument handling and result writing run.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_helpers import load_bench

SCRIPTS = ["generate", "graph_encode", "loop", "reader", "repair", "run_all", "scale_out", "verify_batched",
           "zoo_throughput"]
#: options a docstring names that are not the script's own (run_all: each benchmark's --quick; scale_out: Lightning's)
FOREIGN = {"run_all": {"--quick"}, "scale_out": {"--trainer"}}


class _Parsed(Exception):
    pass


def _parser(mod, monkeypatch) -> argparse.ArgumentParser:
    """The script's argument parser, taken when ``main`` parses (nothing after that runs)."""
    got = {}

    def grab(self, *a, **k):
        got["parser"] = self
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", grab)
    with pytest.raises(_Parsed):
        mod.main([])
    monkeypatch.undo()
    return got["parser"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_states_every_default_and_docstring_options_exist(name, monkeypatch):
    mod = load_bench(name, monkeypatch, prefix="bench_r28")
    p = _parser(mod, monkeypatch)
    options = {o for a in p._actions for o in a.option_strings}
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", mod.__doc__))
    # generate.py's docstring named --sgd-seeds, an option it never had
    assert named - options - FOREIGN.get(name, set()) == set(), name
    for a in p._actions:
        if not a.option_strings or a.dest == "help" or isinstance(a, argparse._StoreTrueAction):
            continue
        text = " ".join((a.help or "").split())
        assert "default" in text.lower(), (name, a.option_strings, text)  # e.g. loop --rounds had no help at all
        if isinstance(a.default, (int, float, str)) and not isinstance(a.default, bool) and a.default != "":
            assert str(a.default) in text, (name, a.option_strings, a.default, text)


# ---------------------------------------------------------------------------------------------- loop
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


# ---------------------------------------------------------------------------------------------- generate
def _stub_generate(mod, monkeypatch, heldout_error: Exception | None) -> list[str]:
    """bench/generate.py with a fake writer and fake sections; returns the sections run, in order."""
    ran: list[str] = []

    class FakeWriter:
        steps = 1
        augment = "none"

        def eval(self):
            return self

        def write(self, *a, **k):
            return None

    monkeypatch.setattr(mod, "load_writer", lambda path: (FakeWriter(), "fake writer"))

    def seen(*a, **k):
        ran.append("seen")
        return {"tasks": [], "summary": {"n": 0}}, []

    def heldout(*a, **k):
        ran.append("heldout")
        if heldout_error is not None:
            raise heldout_error
        return {"tasks": [], "summary": {"n": 0, "augmentation": {"tasks_augmented": 0}}}, [], []

    monkeypatch.setattr(mod, "bench_seen", seen)
    monkeypatch.setattr(mod, "bench_heldout", heldout)
    monkeypatch.setattr(mod, "headline", lambda res, kc: {})
    return ran


def test_generate_crash_in_a_later_section_keeps_the_results_file(monkeypatch, tmp_path, capsys):
    mod = load_bench("generate", monkeypatch, prefix="bench_r28")
    ran = _stub_generate(mod, monkeypatch, RuntimeError("held-out section failed"))
    out = tmp_path / "generate.json"
    out.write_text('{"committed": true}\n')
    argv = ["--quick", "--zoo", "none", "--skip", "archs", "--out", str(out)]
    with pytest.raises(RuntimeError, match="held-out section failed"):
        mod.main(argv)
    assert ran == ["seen", "heldout"]
    # was: the results file replaced by the seen section alone, marked partial, which run_all --table-only reads
    assert json.loads(out.read_text()) == {"committed": True}
    partial = json.loads((tmp_path / "generate.partial.json").read_text())  # the finished section survives beside it
    assert partial["partial"] is True and "seen" in partial and "heldout" not in partial

    ran[:] = []
    _stub_generate(mod, monkeypatch, None)
    assert mod.main(argv) == 0
    d = json.loads(out.read_text())
    assert "partial" not in d and "seen" in d and "heldout" in d
    assert not (tmp_path / "generate.partial.json").exists()  # a finished run leaves only its results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generate.json"]


def test_generate_out_directory_is_a_usage_error_before_any_work(monkeypatch, tmp_path, capsys):
    mod = load_bench("generate", monkeypatch, prefix="bench_r28")
    ran = _stub_generate(mod, monkeypatch, None)
    with pytest.raises(SystemExit) as e:
        mod.main(["--quick", "--zoo", "none", "--skip", "archs", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path} is a directory" in err and "Traceback" not in err
    assert ran == []  # was: the seen section ran first, then an IsADirectoryError traceback
