"""Round 28: figures and names in the docs that tests/test_docs_round27.py does not pin yet, against their sources of
truth (committed bench/results/*.json, the shipped and benchmark checkpoint files, the code's constants). Fast and
offline: no zoo, no training, no timing.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = {"README.md": ROOT / "README.md", "metanet/checkpoints/README.md": ROOT / "metanet" / "checkpoints" / "README.md",
        "bench/data/README.md": ROOT / "bench" / "data" / "README.md", "bench/RESULTS.md": ROOT / "bench" / "RESULTS.md"}
CKPT_README = DOCS["metanet/checkpoints/README.md"].read_text()
DATA_README = DOCS["bench/data/README.md"].read_text()
RESULTS = ROOT / "bench" / "results"


def _json(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _flat(text: str) -> str:
    """Markdown prose with its line breaks joined, so a figure split over two lines is still found."""
    return re.sub(r"\s*\n\s*", " ", text)


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
