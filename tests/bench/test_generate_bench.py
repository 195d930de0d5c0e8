"""bench/generate.py: zoo agreement (not a copy), the refinement comparison and its argument errors; a crash in a
later section keeps the results file, and an output directory is a usage error before any work.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from bench_helpers import load_bench


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_generate"] = mod
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop("bench_generate", None)


def test_copy_of_a_zoo_member_shows_and_sgd_does_not(bench, tiny_zoo):
    from metanet import tasks
    from metanet.zoo import Zoo

    zoo = Zoo(tiny_zoo)
    task = tasks.get("digits")
    xte, yte = task.split("test")
    eligible = zoo.select(task="digits", final=True, backdoor=False, diverged=False)
    member = max(eligible, key=lambda n: n.test_acc)
    copy = bench.predict(zoo.load(member.id), xte)  # a "generated" network that is a copy of a zoo member
    res = bench.zoo_agreement(task, member.arch, copy, [yte, copy], xte, yte, [zoo])["zoo"]
    assert res["networks"] == len(eligible) and res["zoos"] == [{"path": str(tiny_zoo), "networks": len(eligible)}]
    assert res["gen_vs_nearest_zoo"] == 1.0
    assert res["nearest"]["test_acc_here"] == bench.r4((copy == yte).float().mean())
    assert res["nearest"]["test_acc_here"] == res["nearest"]["test_acc_stored"]  # same test split as the zoo's
    # an independent network (here: the labels themselves) agrees with its nearest zoo member only as far as that
    # member is accurate; the copy agrees perfectly
    assert res["sgd_vs_nearest_zoo"][0] == res["zoo_test_acc_here"]["max"] < 1.0
    assert res["sgd_vs_nearest_zoo"][1] == 1.0
    same = res["same_arch"]
    assert same["networks"] == sum(str(n.arch) == str(member.arch) for n in eligible) and same["gen_vs_nearest_zoo"] == 1.0


def test_task_without_zoo_networks_is_reported_not_an_error(bench, tiny_zoo):
    from metanet import tasks
    from metanet.nets import Arch
    from metanet.zoo import Zoo

    task = tasks.get("mnist1d")
    xte, yte = task.split("test")
    arch = Arch.default_for(task.input_shape, task.num_classes)
    res = bench.zoo_agreement(task, arch, yte, [yte], xte, yte, [Zoo(tiny_zoo)])["zoo"]
    assert res["networks"] == 0 and "error" not in res and "mnist1d" in res["note"]
    assert res["zoos"] == [{"path": str(tiny_zoo), "networks": 0}]
    none = bench.zoo_agreement(task, arch, yte, [yte], xte, yte, [])["zoo"]
    assert none["networks"] == 0 and none["note"] == "no zoo given"


def test_open_zoos_and_bad_arguments(bench, tiny_zoo, tmp_path, capsys):
    from metanet.errors import ZooError

    assert [str(z.path) for z in bench.open_zoos([str(tiny_zoo)])] == [str(tiny_zoo)]
    assert bench.open_zoos(["none"]) == []
    with pytest.raises(ZooError, match="is not a zoo: index.sqlite is missing"):
        bench.open_zoos([str(tmp_path)])
    for argv, needle in [
        (["--zoo", str(tmp_path)], str(tmp_path)),
        (["--refine-writer", str(tmp_path / "missing.safetensors")], "missing.safetensors"),
        (["--skip", "seen,bogus"], "bogus"),
        (["--seen", "no-such-task", "--zoo", "none"], "no-such-task"),
    ]:
        with pytest.raises(SystemExit) as e:
            bench.main(argv)
        assert e.value.code == 2
        assert needle in capsys.readouterr().err


def test_per_pass_last_pass_is_the_protocol_result(bench):
    from metanet.nets import Arch
    from metanet.writer import Writer

    writer = Writer(steps=2).eval()
    ep = bench.make_heldout(0, dict(base="digits", k=3), 20, 20)
    k = ep["k"]
    arch = Arch.default_for(ep["input_shape"], k)
    full = ep["support"]
    fit, val = bench.split_fit_val(*full, k)
    gen = bench.gen_same_examples(writer, arch, fit, val, full, ep["query"], k, 3)
    passes = bench.per_pass(writer, arch, k, 3, fit, val, full, ep["query"])
    assert [p["pass"] for p in passes] == [1, 2]
    assert passes[-1]["k3"] == bench.r4(gen["k"]) and passes[-1]["k1"] == bench.r4(gen["k1"])
    assert passes[-1]["chosen"] == gen["chosen"]


def _row(single: float, refine: float, passes=(0.5, None)) -> dict:
    return {
        "task": "t", "arch": "a",
        "single": {"k8": single, "k1": single, "seconds": 1.0},
        "refine": {"k8": refine, "k1": refine, "seconds": 2.0, "last_pass_matches_protocol": True,
                   "per_pass": [{"pass": 1, "k8": passes[0], "k1": passes[0]},
                                {"pass": 2, "k8": refine if passes[1] is None else passes[1], "k1": refine}]},
        "gain": {"k8": round(refine - single, 4), "k1": round(refine - single, 4)},
        "ratio_vs_sgd": {"single": single, "refine": refine},
    }


def test_refinement_summary_and_decision(bench):
    held = [_row(0.8, 0.9), _row(0.7, 0.6), _row(0.5, 0.5)]
    s = bench.refine_summary(held, 8)
    assert s["n"] == 3 and (s["refine_wins_k8"], s["ties_k8"], s["single_wins_k8"]) == (1, 1, 1)
    assert s["gain_k8_mean"] == 0.0 and s["per_pass_k8_mean"] == [0.5, bench.r4((0.9 + 0.6 + 0.5) / 3)]
    assert s["seconds_refine_mean"] == 2.0 and s["last_pass_matches_protocol"] is True
    sec = bench.refinement_section(object(), object(), "w2", 8, [_row(0.5, 0.9)], held, [])
    # held-out tasks decide, even when the seen tasks favour refinement; a tie keeps the single pass
    assert sec["summary"]["basis"] == "heldout" and sec["summary"]["winner"] == "single"
    assert "no difference" in sec["summary"]["decision"]
    sec = bench.refinement_section(object(), object(), "w2", 8, [], [_row(0.5, 0.6), _row(0.7, 0.69)], [])
    assert sec["summary"]["winner"] == "refine" and sec["summary"]["archs"] == {"n": 0}
    head = bench.headline({"refinement": sec}, 8)
    assert "recursive refinement wins" in head["refinement: keep"]


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
