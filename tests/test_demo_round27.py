"""``metanet demo``: every number it prints recomputed from the files it leaves and its TensorBoard run; a rerun into
an output folder never leaves two runs' results side by side; the summary table's total is the printed total."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import sqlite3
from pathlib import Path

import pytest
import torch

from demo_helpers import stub_stages

import metanet
import metanet.demo as demo
from metanet.cli import main
from metanet.demo import STAGES, run_demo
from metanet.errors import ZooError


# --------------------------------------------------------------------------- reruns into the same folder
def test_an_interrupted_rerun_leaves_no_results_of_the_earlier_run(tmp_path, monkeypatch):
    # a finished run (seed 0), then a run with seed 1 stopped (Ctrl-C, or killed) in the loop stage: its new
    # generated.safetensors stood beside the earlier run's inspect/ and pruned.safetensors, made from another network
    out = tmp_path / "out"
    (out / "inspect").mkdir(parents=True)
    old = {"generated.safetensors": "old net", "pruned.safetensors": "old pruned", "inspect/neurons.sqlite": "old db",
           "inspect/INDEX.md": "old index"}
    for name, text in old.items():
        (out / name).write_text(text)
    (out / "notes.txt").write_text("mine")  # the user's own files in the folder are left alone
    (out / "inspect" / "mine.png").write_text("mine")
    ran = stub_stages(monkeypatch, fail_at="loop")
    with pytest.raises(KeyboardInterrupt):
        run_demo(out, seed=1, progress=False, verbose=False)
    assert ran == ["zoo", "read", "generate"]
    assert [n for n in old if (out / n).exists()] == []
    assert (out / "notes.txt").read_text() == "mine" and (out / "inspect" / "mine.png").read_text() == "mine"


def test_a_zoo_of_another_recipe_is_refused_before_any_work(tmp_path):
    from metanet.zoo import Store

    # the zoo stage refused it (build's recipe check) only after the earlier run's event files were deleted
    store = Store(tmp_path / "zoo", create=True)
    store.set_meta(recipe="mine", recipe_sha256="0" * 64, limit=json.dumps(demo.QUICK_ZOO_RUNS))
    store.close()
    (tmp_path / "generated.safetensors").write_text("kept")
    with pytest.raises(ZooError, match=r"holds a zoo of another recipe \('mine'\), not the demo's tiny recipe"):
        run_demo(tmp_path, quick=True, progress=False, verbose=False)
    assert not (tmp_path / "tb").exists()
    assert (tmp_path / "generated.safetensors").read_text() == "kept"


# --------------------------------------------------------------------------- the summary table
def _totals(printed: str) -> tuple[float, float, list[float]]:
    lines = printed.splitlines()
    table_total = float(next(ln for ln in lines if ln.startswith("total ") and not ln.endswith(":")).split()[-1])
    final = float(re.search(r"^total ([0-9.]+) s\. Open the TensorBoard run", printed, re.M).group(1))
    start = next(i for i, ln in enumerate(lines) if ln.startswith("stage ") and ln.rstrip().endswith("seconds"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("total "))
    rows = [float(ln.split()[-1]) for ln in lines[start + 2:end]]
    return table_total, final, rows


def test_the_tables_total_is_the_printed_total(tmp_path, monkeypatch, capsys):
    # the table summed the stages (e.g. 43.4) and the line below it said "total 52.6 s": two totals
    stub_stages(monkeypatch, outside=0.05)
    r = run_demo(tmp_path / "d", progress=False, verbose=True)
    table_total, final, rows = _totals(capsys.readouterr().out)
    assert table_total == final == r["seconds"]
    assert len(rows) == len(STAGES) + 1  # the time outside the stages has a row of its own
    assert math.isclose(sum(rows), final, abs_tol=0.05 * len(rows))


# --------------------------------------------------------------------------- a real --quick run, recomputed
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run with spaces"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "--quick", "--out", str(out), "--candidates", "3", "--rounds", "1", "--threads", "1"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def _scalars(tb: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}, acc.Tags()


def _f3(x: float) -> str:
    return f"{x:.3f}"


@pytest.mark.slow
def test_quick_run_prints_what_its_files_and_tensorboard_run_hold(quick_run):
    scipy_stats = pytest.importorskip("scipy.stats")
    from metanet.inspect import NeuronDB
    from metanet.reader import Reader
    from metanet.zoo import Zoo

    out, printed, progress = quick_run
    sc, tags = _scalars(out / "tb")
    # README's "The demo": the figures it names are in the run
    for tag in ("reader/accuracy_scatter", "loop/reward_curve", "inspect/first_layer_weights",
                "inspect/ablation_heatmap_layer1", "generate/network_graph", "prune/curve"):
        assert tag in tags["images"], tag
    # the progress lines and the summary table say the same, stage by stage
    results = dict(re.findall(r"^\[\d/6\] (\w+): (.*) \([0-9.]+ s\)$", progress, re.M))
    assert list(results) == list(STAGES)
    for stage, text in results.items():
        assert re.search(rf"^{stage} +{re.escape(text)} +[0-9.]+$", printed, re.M), stage

    # zoo and read: the networks in DIR/zoo, read again one by one
    with Zoo(out / "zoo") as zoo:
        nets = [n for n in zoo.select(diverged=False) if math.isfinite(n.test_acc)]
        reader = Reader.load().eval()
        with torch.no_grad():
            pred = [float(reader(zoo.graphs([n.id]))["accuracy"].clamp(0, 1)[0]) for n in nets]
    y = [n.test_acc for n in nets]
    tau = scipy_stats.kendalltau(pred, y).statistic
    mae = sum(abs(p - t) for p, t in zip(pred, y)) / len(y)
    assert results["zoo"].startswith(f"{len(nets)} networks on digits, mnist from 8 runs")
    assert results["read"].startswith(f"{len(nets)} networks: Kendall τ {_f3(tau)} ")
    assert results["read"].endswith(f"mean |error| {_f3(mae)}")
    assert math.isclose(sc["reader/kendall_tau"][0][1], tau, abs_tol=1e-5)
    assert math.isclose(sc["reader/abs_error_mean"][0][1], mae, abs_tol=1e-5)

    # generate: DIR/generated.safetensors verified again
    gen = metanet.load(out / "generated.safetensors")
    test, val = metanet.verify(gen, "mnist"), metanet.verify(gen, "mnist", split="val")
    vals = [v for _, v in sc["generate/candidate_val_accuracy"]]
    assert len(vals) == 3 and math.isclose(max(vals), val.accuracy, abs_tol=1e-6)
    assert results["generate"] == (f"mlp:784-64-10:relu: test accuracy {_f3(test.accuracy)} (best of 3, val "
                                   f"{_f3(min(vals))}-{_f3(max(vals))}), 0 gradient steps")
    assert math.isclose(sc["generate/chosen_test_accuracy"][0][1], test.accuracy, abs_tol=1e-6)

    # loop: the printed rounds are the logged ones
    for step, v in sc["loop/reward_mean"]:
        best = dict(sc["loop/reward_best"])[step]
        assert f"round {step}: reward mean {_f3(v)} best {_f3(best)} " in printed
    assert [s for s, _ in sc["loop/reward_mean"]] == [0, 1]

    # inspect: DIR/inspect/neurons.sqlite counted with sqlite alone
    con = sqlite3.connect(out / "inspect" / "neurons.sqlite")
    n, dead = con.execute("SELECT COUNT(*), SUM(dead) FROM neurons").fetchone()
    con.close()
    supporting = sum(1 for r in NeuronDB.load(out / "inspect") if r["supports"])
    assert results["inspect"].startswith(f"{n} neurons: {dead} dead, {supporting} needed by a class; ")

    # prune: DIR/pruned.safetensors, its zeros counted and verified again
    pruned = metanet.load(out / "pruned.safetensors")
    weights = [t for k, t in pruned.state_dict().items() if k.endswith("weight")]
    sparsity = sum(int((t == 0).sum()) for t in weights) / sum(t.numel() for t in weights)
    after, after_val = metanet.verify(pruned, "mnist"), metanet.verify(pruned, "mnist", split="val")
    curve = dict(sc["prune/magnitude_val_accuracy"])
    assert results["prune"] == (f"{sparsity:.0%} of weights removed: test accuracy {_f3(test.accuracy)} -> "
                                f"{_f3(after.accuracy)} (magnitude pruning alone: val {_f3(curve[0])} -> "
                                f"{_f3(curve[70])})")
    assert math.isclose(curve[0], val.accuracy, abs_tol=1e-6)
    assert math.isclose(dict(sc["prune/verified_test_accuracy"])[70], after.accuracy, abs_tol=1e-6)
    assert math.isclose(dict(sc["prune/verified_val_accuracy"])[70], after_val.accuracy, abs_tol=1e-6)
    for step, v in sorted(curve.items()):
        assert f"{step}% {_f3(v)}" in printed, step

    # one total, the same in the table and below it
    table_total, final, _ = _totals(printed)
    assert table_total == final


@pytest.mark.slow
def test_quick_runs_zoo_is_accepted_by_the_zoo_check(quick_run):
    # the recipe check compares the zoo's recorded fingerprint with the shipped recipe's: a demo zoo passes it
    out, _, _ = quick_run
    demo._check_zoo_dir(out / "zoo", demo.QUICK_ZOO_RUNS, quick=True)
    with pytest.raises(ZooError, match="--quick demo run"):
        demo._check_zoo_dir(out / "zoo", None, quick=False)
