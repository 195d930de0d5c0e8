"""`metanet demo`: the end-to-end run (reduced size) and its TensorBoard output; argument errors; the shipped recipe."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

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
def test_demo_end_to_end_quick(tmp_path, capsys):
    out = tmp_path / "demo"
    r = run_demo(out, seed=0, quick=True, candidates=4, threads=1, progress=False)
    printed = capsys.readouterr().out

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
    assert f"tensorboard --logdir {out / 'tb'}" in printed
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
