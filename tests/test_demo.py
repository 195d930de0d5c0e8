"""`metanet demo`: the end-to-end run (reduced size) and its TensorBoard output, with every number it prints recomputed
from the files it leaves and its TensorBoard run, and the summary table's total the printed total; argument errors;
the shipped recipe; output folders: '~' is the home folder, the printed TensorBoard command quotes a path with
spaces, files or folders in the way are refused before any work, and a rerun into an output folder never leaves two
runs' results side by side.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shlex
import sqlite3
from pathlib import Path

import pytest
import torch

from demo_helpers import stub_stages

import metanet
import metanet.demo as demo
from metanet import ConfigError, MetanetError, ZooError
from metanet.cli import build_parser, main
from metanet.demo import STAGES, run_demo, tiny_recipe


ROOT = Path(__file__).resolve().parents[1]


def test_demo_is_a_cli_command():
    args = build_parser().parse_args(["demo", "--out", "x", "--seed", "3", "--quick"])
    assert args.command == "demo" and args.out == "x" and args.seed == 3 and args.quick
    assert callable(args.run)


def test_shipped_recipe_is_the_repository_recipe():
    # the demo builds the copy inside the package (found in non-editable installs too); it must not drift
    assert tiny_recipe().read_bytes() == (ROOT / "zoo" / "tiny.yaml").read_bytes()


def test_a_missing_shipped_recipe_is_a_recipe_error(tmp_path, monkeypatch):
    import metanet.demo

    from metanet.errors import RecipeError

    monkeypatch.setattr(metanet.demo, "__file__", str(tmp_path / "demo.py"))  # an install without its package data
    with pytest.raises(RecipeError, match=r"the demo's recipe .*tiny\.yaml is missing from this installation"):
        tiny_recipe()  # was the base MetanetError


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"candidates": 1}, "candidates must be an integer >= 2"),
        ({"rounds": 0}, "rounds must be an integer >= 1"),
        ({"threads": 0}, "threads must be an integer >= 1"),
    ],
)
def test_bad_arguments_raise_before_any_work(tmp_path, kwargs, match):
    out = tmp_path / "demo"
    with pytest.raises(ConfigError, match=match):  # was the base MetanetError, no ValueError
        run_demo(out, **kwargs)
    assert not out.exists()  # nothing was created


def test_output_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("not a directory")
    with pytest.raises(ConfigError, match="not a directory"):
        run_demo(f)
    assert f.read_text() == "not a directory"


def test_output_under_a_file_is_refused_naming_what_is_valid(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("not a directory")
    with pytest.raises(MetanetError, match=r"file\.txt is a file, not a directory; give a new or existing directory"):
        run_demo(f / "demo")
    assert f.read_text() == "not a directory"


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["demo", "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("metanet: error: ") and "not a directory" in err and "\n" not in err
    assert main(["demo", "--out", str(tmp_path / "d"), "--candidates", "1"]) == 2
    assert "candidates must be an integer >= 2" in capsys.readouterr().err


def test_zoo_of_the_other_size_is_refused_before_any_work(tmp_path):
    import json

    from metanet.zoo import Store

    # a zoo directory left by a full-size run (no --limit): a quick run cannot resume it
    store = Store(tmp_path / "zoo", create=True)
    store.set_meta(recipe="tiny", limit=json.dumps(None))
    store.close()
    with pytest.raises(ZooError, match="full-size demo run; use another --out"):
        run_demo(tmp_path, quick=True, progress=False, verbose=False)
    assert not (tmp_path / "tb").exists() and not (tmp_path / "generated.safetensors").exists()


def _event_tags(tb_dir: Path) -> dict[str, list[str]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0, "images": 0, "histograms": 0,
                                                       "tensors": 0})
    acc.Reload()
    return acc, acc.Tags()


@pytest.mark.slow
def test_demo_end_to_end_quick(quick_run):
    # the module's one real --quick run (a demo run is the costliest part of the suite): run_demo's own record
    out, printed, _, r = quick_run

    # the returned record: every stage ran, in order, with a result and a time
    assert [s["stage"] for s in r["stages"]] == list(STAGES)
    assert all(s["result"] and s["seconds"] >= 0 for s in r["stages"])
    assert r["zoo"]["runs"] == 8 and r["zoo"]["networks"] == 8 * 4  # 4 checkpoints per run
    assert r["read"]["networks"] == r["zoo"]["networks"]
    assert -1 <= r["read"]["kendall_tau"] <= 1 and 0 <= r["read"]["abs_error_mean"] <= 1
    assert 0 <= r["read"]["network"]["predicted_accuracy"] <= 1
    assert len(r["generate"]["val_accuracies"]) == 4
    assert r["generate"]["test_accuracy"] > 0.5  # the shipped writer on mnist; chance is 0.1
    assert [x["round"] for x in r["loop"]["rounds"]] == [0, 1, 2]
    assert all(x["reward_worst"] <= x["reward_mean"] <= x["reward_best"] for x in r["loop"]["rounds"])
    assert r["inspect"]["neurons"] == 64
    assert math.isclose(r["prune"]["sparsity"], 0.7, abs_tol=0.01)
    assert r["prune"]["test_accuracy_after"] > 0.5

    # the files it names exist
    for p in ("zoo/index.sqlite", "generated.safetensors", "pruned.safetensors", "inspect/neurons.sqlite",
              "inspect/INDEX.md"):
        assert (out / p).is_file(), p
    assert f"tensorboard --logdir {shlex.quote(str(out / 'tb'))}" in printed
    assert "stage" in printed and "seconds" in printed  # the summary table

    # the TensorBoard run holds what the demo says it wrote, readable by TensorBoard itself
    acc, tags = _event_tags(out / "tb")
    for tag in ("reader/kendall_tau", "reader/abs_error_mean", "loop/reward_mean", "loop/reward_best",
                "loop/reward_worst", "generate/candidate_val_accuracy", "prune/magnitude_val_accuracy",
                "prune/verified_test_accuracy"):
        assert tag in tags["scalars"], tag
    assert [e.step for e in acc.Scalars("loop/reward_mean")] == [0, 1, 2]
    assert len(acc.Scalars("generate/candidate_val_accuracy")) == 4
    for tag in ("reader/accuracy_scatter", "loop/reward_curve", "inspect/first_layer_weights",
                "inspect/ablation_heatmap_layer1", "generate/network_graph", "prune/curve"):
        assert tag in tags["images"], tag
        img = acc.Images(tag)[0]
        assert img.width > 100 and img.height > 100 and img.encoded_image_string[:4] == b"\x89PNG"
    for name in ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"):
        assert f"generated_weights/{name}" in tags["histograms"], name
    assert set(tags["scalars"]) == set(r["tags"]["scalars"])
    assert set(tags["images"]) == set(r["tags"]["images"])
    assert set(tags["histograms"]) == set(r["tags"]["histograms"])

    # one event file: everything above went through one writer into one run
    assert len(list((out / "tb").glob("events.out.tfevents.*"))) == 1


def test_reader_split_matches_the_training_config():
    """The demo's "never seen by the reader" count is only true while it uses the split the reader was trained on."""
    import inspect as pyinspect

    import yaml

    from metanet.demo import _READER_SPLIT
    from metanet.reader.lightning import ReaderDataModule

    root = Path(__file__).resolve().parents[1]
    data = yaml.safe_load((root / "train" / "reader.yaml").read_text())["data"]["init_args"]
    defaults = {k: v.default for k, v in pyinspect.signature(ReaderDataModule).parameters.items()}
    assert tuple(data.get("fractions", defaults["fractions"])) == tuple(_READER_SPLIT["fractions"])
    assert data.get("seed", defaults["seed"]) == _READER_SPLIT["seed"]
    assert tuple(data.get("exclude_archs", defaults["exclude_archs"])) == tuple(_READER_SPLIT["exclude_archs"])


def test_demo_leaves_the_callers_threads_and_random_state_alone(tmp_path, monkeypatch):
    """Stages reseed torch's global RNG (the loop's ``improve`` does) and set the thread count: the caller's
    random stream and threads must be as they were (a notebook user's next ``torch.randn`` must not be the
    demo's)."""
    import torch

    import metanet.demo as demo

    def stage(name):
        def run_stage(run, *args):
            with run.stage(name, "stub") as row:
                torch.manual_seed(0)
                torch.rand(3)
                row["result"] = "ok"
            return (None, {}) if name == "generate" else {}
        return run_stage

    for name in STAGES:
        monkeypatch.setattr(demo, f"_stage_{name}", stage(name))
    threads = torch.get_num_threads()
    torch.manual_seed(1234)
    state = torch.random.get_rng_state()
    run_demo(tmp_path / "d", threads=1 if threads > 1 else 2, progress=False, verbose=False)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)


def test_printed_tensorboard_command_quotes_a_path_with_spaces(tmp_path, monkeypatch, capsys):
    # "tensorboard --logdir /x/my demo/tb" pasted into a shell gave tensorboard two arguments
    stub_stages(monkeypatch)
    out = tmp_path / "my demo"
    r = run_demo(out, progress=False, verbose=True)
    line = [ln for ln in capsys.readouterr().out.splitlines() if "tensorboard --logdir" in ln]
    assert len(line) == 1
    assert shlex.split(line[0]) == ["tensorboard", "--logdir", str(out / "tb")]
    assert r["tensorboard"] == str(out / "tb")


@pytest.mark.parametrize("name, make_dir", [("generated.safetensors", True), ("pruned.safetensors", True),
                                            ("zoo", False), ("tb", False), ("inspect", False)])
def test_something_in_the_way_of_an_output_is_refused_before_any_work(tmp_path, monkeypatch, name, make_dir):
    # a folder named pruned.safetensors failed the prune stage only after all the others had run (minutes)
    ran = stub_stages(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    (out / name).mkdir() if make_dir else (out / name).write_text("mine")
    with pytest.raises(ConfigError, match=f"holds {name}, which is a .*remove it or give another output"):
        run_demo(out, progress=False, verbose=False)
    assert ran == []
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing written (no tb/ run)


def test_something_in_the_way_is_one_error_line_from_the_cli(tmp_path, monkeypatch, capsys):
    ran = stub_stages(monkeypatch)
    (tmp_path / "inspect").write_text("mine")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("metanet: error: demo output") and "inspect" in err[0], err
    assert ran == []


def test_rerun_into_the_same_folder_is_allowed(tmp_path, monkeypatch):
    # what a finished run leaves is not "in the way" of the next one
    ran = stub_stages(monkeypatch)
    out = tmp_path / "out"
    for d in ("zoo", "tb", "inspect"):
        (out / d).mkdir(parents=True)
    for f in ("generated.safetensors", "pruned.safetensors"):
        (out / f).write_bytes(b"")
    run_demo(out, progress=False, verbose=False)
    assert ran == list(STAGES)


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
    """``metanet demo --quick`` once for the module: (out, stdout, stderr, what the CLI's run_demo returned)."""
    out = tmp_path_factory.mktemp("demo") / "run with spaces"
    stdout, stderr = io.StringIO(), io.StringIO()
    returned = []

    def spy(*args, **kwargs):
        returned.append(run_demo(*args, **kwargs))
        return returned[-1]

    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        mp.setattr(demo, "run_demo", spy)
        code = main(["demo", "--quick", "--out", str(out), "--candidates", "4", "--rounds", "2", "--threads", "1"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue(), returned[0]


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

    out, printed, progress, _ = quick_run
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
    assert len(vals) == 4 and math.isclose(max(vals), val.accuracy, abs_tol=1e-6)
    assert results["generate"] == (f"mlp:784-64-10:relu: test accuracy {_f3(test.accuracy)} (best of 4, val "
                                   f"{_f3(min(vals))}-{_f3(max(vals))}), 0 gradient steps")
    assert math.isclose(sc["generate/chosen_test_accuracy"][0][1], test.accuracy, abs_tol=1e-6)

    # loop: the printed rounds are the logged ones
    for step, v in sc["loop/reward_mean"]:
        best = dict(sc["loop/reward_best"])[step]
        assert f"round {step}: reward mean {_f3(v)} best {_f3(best)} " in printed
    assert [s for s, _ in sc["loop/reward_mean"]] == [0, 1, 2]

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
    out, _, _, _ = quick_run
    demo._check_zoo_dir(out / "zoo", demo.QUICK_ZOO_RUNS, quick=True)
    with pytest.raises(ZooError, match="--quick demo run"):
        demo._check_zoo_dir(out / "zoo", None, quick=False)


def test_output_under_tilde_is_in_home(home, monkeypatch, capsys):
    ran = stub_stages(monkeypatch)
    assert main(["demo", "--quick", "--out", "~/demo out"]) == 0
    assert len(ran) == 6
    # the TensorBoard run and the printed command name the home folder: they went to a folder './~' before
    assert list((home / "demo out" / "tb").glob("events.out.tfevents.*"))
    assert not (Path.cwd() / "~").exists()
    assert f"tensorboard --logdir '{home / 'demo out' / 'tb'}'" in capsys.readouterr().out
