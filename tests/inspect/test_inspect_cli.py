"""Pictures, TensorBoard logging, and the `metanet inspect` and `metanet edit` commands (metanet/inspect/cli.py):
`--out` under '~' is the home folder (checked before the work), and `metanet edit` refuses a flag that tunes
an edit not asked for and a budget out of range, naming the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_helpers import digits_mlp, planted_mlp, planted_task

from metanet import tasks
from metanet.cli import main
from metanet.inspect import NeuronDB, inspect
from metanet.inspect.pictures import save_pictures
from metanet.io import load, load_meta, save
from metanet.nets import build

PNG = b"\x89PNG\r\n\x1a\n"


def test_pictures_png_and_tensorboard(tmp_path):
    task = tasks.get("digits")
    model = digits_mlp()
    db = inspect(model, task)
    paths = save_pictures(model, task, db, tmp_path / "pics", tensorboard=tmp_path / "tb")
    assert sorted(p.name for p in paths) == ["ablation_layer1.png", "top_examples_layer1.png", "weights_layer1.png"]
    for p in paths:
        assert p.read_bytes()[:8] == PNG
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert set(acc.Tags()["images"]) == {f"inspect/{p.stem}" for p in paths}


def test_cnn_pictures_show_kernels(tmp_path):
    task = tasks.get("digits")
    model = build("cnn:1-4-6-10:relu:k3:s2", seed=0)
    db = inspect(model, task, max_examples=50)
    paths = save_pictures(model, task, db, tmp_path)
    assert sorted(p.name for p in paths) == ["ablation_layer1.png", "ablation_layer2.png", "top_examples_layer1.png",
                                             "top_examples_layer2.png", "weights_layer1.png"]


def test_pictures_without_an_image_task_draw_the_heat_map_only(tmp_path):
    task = planted_task()  # inputs (1, 8): not an image
    model = planted_mlp()
    paths = save_pictures(model, task, inspect(model, task), tmp_path)
    assert [p.name for p in paths] == ["ablation_layer1.png"]


def test_cli_inspect_writes_db_index_and_pictures(tmp_path, capsys):
    net = tmp_path / "net.safetensors"
    save(digits_mlp(), net, task="digits")
    out = tmp_path / "out"
    assert main(["inspect", str(net), "--out", str(out), "--tensorboard", str(tmp_path / "tb")]) == 0
    text = capsys.readouterr().out
    assert "mlp:64-32-10:relu on digits/test" in text and "layer 1, neuron" in text
    assert {p.name for p in out.iterdir()} >= {"neurons.sqlite", "INDEX.md", "weights_layer1.png",
                                                "top_examples_layer1.png", "ablation_layer1.png"}
    db = NeuronDB.load(out)
    assert len(db) == 32 and db.meta["task"] == "digits"
    assert (out / "INDEX.md").read_text().startswith("# INDEX: mlp:64-32-10:relu on digits")
    assert any((tmp_path / "tb").iterdir())


def test_cli_inspect_needs_a_task(tmp_path, capsys):
    net = tmp_path / "net.safetensors"
    save(planted_mlp(), net)
    assert main(["inspect", str(net), "--out", str(tmp_path / "o")]) == 2
    assert "no --task given" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["inspect", str(net), "--task", "nope", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flag", ["--no-pictures", "--json"])
def test_cli_inspect_flags(tmp_path, capsys, flag):
    net = tmp_path / "net.safetensors"
    save(digits_mlp(), net)
    out = tmp_path / "o"
    assert main(["inspect", str(net), "--task", "digits", "--out", str(out), "--no-pictures", flag]) == 0
    assert not list(out.glob("*.png"))
    if flag == "--json":
        assert json.loads(capsys.readouterr().out)["meta"]["task"] == "digits"


def test_cli_inspect_json_has_the_summary_of_the_text(tmp_path, capsys):
    """What the text output's first line says (hidden neurons, dead, outliers) and where TensorBoard was logged are
    in --json too."""
    net = save(digits_mlp(), tmp_path / "net.safetensors", task="digits")
    argv = ["inspect", str(net), "--out", str(tmp_path / "o"), "--no-reader"]
    assert main([*argv, "--no-pictures"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert main([*argv, "--json", "--tensorboard", str(tmp_path / "tb")]) == 0
    d = json.loads(capsys.readouterr().out)
    db = NeuronDB.load(tmp_path / "o")
    assert (d["neurons"], d["dead"], d["outliers"]) == (len(db), sum(r["dead"] for r in db), len(db.outliers()))
    assert f"{d['neurons']} hidden neurons, {d['dead']} dead, {d['outliers']} outliers" in first
    assert d["tensorboard"] == str(tmp_path / "tb")


@pytest.mark.parametrize("value", ["0", "-5"])
def test_cli_inspect_max_examples_error_names_the_option(tmp_path, capsys, value):
    net = save(digits_mlp(), tmp_path / "net.safetensors", task="digits")
    with pytest.raises(SystemExit) as info:
        main(["inspect", str(net), "--out", str(tmp_path / "o"), "--max-examples", value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --max-examples: must be a whole number >= 1, got '{value}'" in err
    assert not (tmp_path / "o").exists()


def test_cli_inspect_tensorboard_with_no_pictures_is_refused(tmp_path, capsys):
    """--tensorboard logs the pictures: with --no-pictures nothing was logged, yet the command said it was."""
    net = save(digits_mlp(), tmp_path / "net.safetensors", task="digits")
    argv = ["inspect", str(net), "--out", str(tmp_path / "o"), "--no-pictures", "--tensorboard", str(tmp_path / "tb")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == (
        "metanet: error: --tensorboard logs the pictures, which --no-pictures skips; give one of them")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors"]
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError):  # was the base MetanetError, no ValueError
        main(["--debug", *argv])


def test_cli_inspect_out_existing_file_is_one_error_line(tmp_path, capsys):
    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    assert main(["inspect", str(net), "--out", str(net), "--no-pictures"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (f"metanet: error: --out {str(net)!r} is an existing file, not a directory; "
                                    "give a new or existing directory")
    assert [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]


def test_cli_edit_applies_every_repeated_flag(tmp_path, capsys):
    """Repeated --remove/--clamp/--precision merge into one edit each, repeated --scale are applied in order:
    none is dropped (argparse's default keeps only the last)."""
    net = save(build("mlp:64-32-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    out = tmp_path / "edited.safetensors"
    assert main(["edit", str(net), "--out", str(out), "--json", "--remove", "1:5", "--remove", "2:6",
                 "--clamp", "1:3=0", "--clamp", "1:4=0.25", "--scale", "1:1=0.5", "--scale", "2:2=2",
                 "--precision", "0=fp16", "--precision", "1=int8"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["out"] == str(out)
    params = [(e["edit"], e["params"]) for e in data["edits"]]
    assert params == [
        ("remove", {"neurons": "1:5;2:6"}),
        ("clamp", {"neurons": {"1:3": 0.0, "1:4": 0.25}}),
        ("scale", {"neurons": "1:1", "factor": 0.5}),
        ("scale", {"neurons": "2:2", "factor": 2.0}),
        ("precision", {"plan": "0=fp16,1=int8"}),
    ]
    assert [e["edit"] for e in load_meta(out)["edits"]] == ["remove", "clamp", "scale", "scale", "precision"]
    w1, w2 = (layer.weight.detach() for layer in load(out).layers[:2])
    assert float(w1[5].abs().sum()) == 0 and float(w2[6].abs().sum()) == 0  # both removed neurons


def test_cli_edit_clamp_repeats_merge_like_one_spec(tmp_path, capsys):
    """'--clamp A --clamp B' is '--clamp "A;B"': a neuron without a value takes its mean, the last value wins."""
    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    for name, args in (("two", ["--clamp", "1:3=0", "--clamp", "1:4", "--clamp", "1:3=1"]),
                       ("one", ["--clamp", "1:3=0;1:4;1:3=1"])):
        assert main(["edit", str(net), "--out", str(tmp_path / f"{name}.safetensors"), *args]) == 0
    two, one = (load_meta(tmp_path / f"{n}.safetensors")["edits"][0]["params"] for n in ("two", "one"))
    assert two == one and two["neurons"]["1:3"] == 1.0 and set(two["neurons"]) == {"1:3", "1:4"}


def test_cli_edit_repeated_prune_is_refused(tmp_path, capsys):
    """Two sparsities cannot be merged into one pruning edit: a usage error naming both, nothing written."""
    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    with pytest.raises(SystemExit) as info:
        main(["edit", str(net), "--out", str(tmp_path / "o.safetensors"), "--prune", "0.2", "--prune", "0.5"])
    assert info.value.code == 2
    assert "argument --prune: given twice (0.2 and 0.5)" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]


def test_cli_edit_out_directory_is_refused_before_editing(tmp_path, capsys):
    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    assert main(["edit", str(net), "--prune", "0.2", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no edit report: nothing was edited
    assert captured.err.strip() == (f"metanet: error: --out {str(tmp_path)!r} is a directory; give a file path, "
                                    f"e.g. {tmp_path / 'net.safetensors'}")


def test_inspect_out_under_tilde_is_written_in_home(home, capsys):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    code = main(["inspect", str(net), "--task", "digits", "--out", "~/db", "--no-pictures", "--no-reader",
                 "--max-examples", "50"])
    assert code == 0, capsys.readouterr().err
    assert (home / "db" / "neurons.sqlite").is_file()
    assert not (Path.cwd() / "~").exists()


def test_edit_out_under_tilde_is_checked_before_the_work(home, capsys, monkeypatch):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    (home / "pruned.safetensors").mkdir()  # in the way: a directory where the file goes

    def work(*a, **k):
        raise AssertionError("the edit ran before the output path was checked")

    monkeypatch.setattr("metanet.io.load", work)
    code = main(["edit", str(net), "--task", "digits", "--prune", "0.5", "--out", "~/pruned.safetensors"])
    assert code == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.fixture(scope="module")
def net_file(tmp_path_factory):
    return save(digits_mlp(), tmp_path_factory.mktemp("extra2") / "net.safetensors", task="digits")


@pytest.mark.parametrize("flags, named", [
    (["--blind"], "--blind tunes --repair-backdoor"),
    (["--max-asr", "0.2"], "--max-asr tunes --repair-backdoor"),
    (["--max-drop", "0.05"], "--max-drop tunes --repair-backdoor"),
    (["--prune-method", "necessity"], "--prune-method tunes --prune SPARSITY"),
    (["--prune-scope", "global"], "--prune-scope tunes --prune SPARSITY"),
])
def test_cli_edit_tuning_flag_without_its_edit_is_refused(tmp_path, capsys, net_file, flags, named):
    # they were silently ignored: `--remove 1:3 --blind` ran the removal as if --blind was not there
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(net_file), "--remove", "1:3", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "ten"])
def test_cli_edit_budget_out_of_range_names_the_flag(tmp_path, capsys, net_file, value):
    # was "max_asr 1.5 is not valid" (the Python name) after loading the network, or argparse's "invalid float"
    out = tmp_path / "out.safetensors"
    with pytest.raises(SystemExit) as e:
        main(["edit", str(net_file), "--repair-backdoor", "--max-asr", value, "--out", str(out)])
    assert e.value.code == 2
    assert "--max-asr: must be a fraction in [0, 1]" in capsys.readouterr().err
    assert not out.exists()
