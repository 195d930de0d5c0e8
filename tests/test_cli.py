"""The ``metanet`` command line: ``--version``, ``verify``, ``tasks``, and one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import json
import re
import runpy
import sys
import types
from pathlib import Path

import pytest
import torch
from process_helpers import _strict_json
from torch import nn

import metanet
from metanet.cli import build_parser, main, out_dir, out_file, positive_int
from metanet.errors import ConfigError, FileFormatError
from metanet.io import load, save
from metanet.nets import build
from metanet.verify import verify

FOUR_TASKS = ["mnist", "fashion-mnist", "digits", "mnist1d"]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("metanet: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"metanet {metanet.__version__}\n"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    out = capsys.readouterr().err  # a usage error: on stderr, as `metanet zoo` with no subcommand
    assert out.startswith("usage: metanet") and "verify" in out and "tasks" in out


@pytest.fixture
def noise_file(tmp_path) -> Path:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def test_bad_file_is_one_error_line(capsys, noise_file):
    assert main(["verify", str(noise_file), "--task", "digits"]) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert str(noise_file) in line and "not a readable safetensors file" in line
    assert captured.out == ""


def test_missing_file_is_one_error_line(capsys, tmp_path):
    assert main(["verify", str(tmp_path / "nope.safetensors"), "--task", "digits"]) == 2
    assert "no such file" in _one_error_line(capsys.readouterr().err)


def test_debug_shows_the_exception(noise_file):
    with pytest.raises(FileFormatError):
        main(["--debug", "verify", str(noise_file), "--task", "digits"])


def test_module_entry_point_exits_with_code_2(capsys, monkeypatch, noise_file):
    """``python -m metanet`` (what the ``metanet`` script runs) turns the return code into the exit status."""
    monkeypatch.setattr(sys, "argv", ["metanet", "verify", str(noise_file), "--task", "digits"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("metanet", run_name="__main__")
    assert info.value.code == 2
    _one_error_line(capsys.readouterr().err)


def test_verify_prints_the_exact_accuracy_of_a_known_model(capsys, tmp_path, monkeypatch, stub_task):
    """With a stand-in task whose answer is known: a network that always says class 2, on 5 of 10 examples."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
    path = save(model, tmp_path / "const.safetensors")
    task = stub_task(torch.rand(10, 4), torch.tensor([0, 1, 2, 2, 2, 0, 1, 2, 2, 0]), num_classes=3, name="handmade")
    fake = types.SimpleNamespace(resolve=lambda name: task if name == "handmade" else pytest.fail(f"asked for {name}"))
    monkeypatch.setattr(metanet, "tasks", fake, raising=False)

    assert main(["verify", str(path), "--task", "handmade"]) == 0
    out = capsys.readouterr().out
    assert "handmade/test: accuracy 0.5000" in out and "n=10" in out
    assert main(["verify", str(path), "--task", "handmade", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["accuracy"], d["n"], d["per_class"], d["task"]) == (0.5, 10, [0.0, 0.0, 1.0], "handmade")


# --- with the real tasks ------------------------------------------------------------------------------
tasks = pytest.importorskip("metanet.tasks")


@pytest.fixture
def digits_model(tmp_path) -> tuple[Path, nn.Module]:
    model = build("mlp:64-32-10:relu", seed=3)
    return save(model, tmp_path / "digits.safetensors", task="digits"), model


def test_verify_on_digits(capsys, digits_model):
    path, model = digits_model
    expected = verify(model, tasks.get("digits"))
    assert main(["verify", str(path), "--task", "digits"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digits/test: ")
    assert f"accuracy {expected.accuracy:.4f}" in out and f"n={expected.n}" in out

    assert main(["verify", str(path), "--task", "digits", "--split", "val", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    val = verify(model, tasks.get("digits"), split="val")
    assert (d["accuracy"], d["n"], d["split"]) == (val.accuracy, val.n, "val")


def test_verify_network_that_does_not_fit(capsys, tmp_path):
    path = save(build("mlp:784-64-10", seed=0), tmp_path / "mnist.safetensors")
    assert main(["verify", str(path), "--task", "digits"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "784" in line and "(1, 8, 8)" in line


def test_verify_and_inspect_take_a_sentence_as_the_task(capsys, tmp_path):
    """--task took a task name only ('only 3s and 8s' was 'bad task name'), while generate took sentences."""
    path = save(build("mlp:784-8-2:relu", seed=0), tmp_path / "m.safetensors")
    assert main(["verify", str(path), "--task", "only 3s and 8s", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["task"] == "mnist[3,8]" and d["n"] == verify(load(path), "mnist[3,8]").n
    out = tmp_path / "insp"
    assert main(["inspect", str(path), "--task", "only 3s and 8s", "--out", str(out), "--no-pictures",
                 "--no-reader", "--max-examples", "50"]) == 0
    assert (out / "neurons.sqlite").is_file()


def test_verify_unknown_task(capsys, digits_model):
    path, _ = digits_model
    assert main(["verify", str(path), "--task", "no-such-task"]) == 2
    assert "no-such-task" in _one_error_line(capsys.readouterr().err)


def test_tasks_lists_the_four_tasks(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["task", "input", "classes"]
    assert [line.split()[0] for line in lines[1:5]] == FOUR_TASKS
    assert lines[3].split()[1:3] == ["1x8x8", "10"]  # digits

    assert main(["tasks", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == FOUR_TASKS
    assert {r["name"]: r["input_shape"] for r in rows}["mnist1d"] == [1, 40]


# --- shared argument checks: counts >= 1, output paths of the right kind -------------------------------------
def _subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(argv prefix, parser) of every leaf subcommand, e.g. (("zoo", "build"), <parser>)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _subcommands(child, path + (name,))


def _minimal_argv(path: tuple[str, ...], parser: argparse.ArgumentParser, skip: str) -> list[str]:
    """``path`` with a placeholder for every positional and required option except ``skip``."""
    argv = list(path)
    for a in parser._actions:
        if not a.option_strings:
            argv.append("placeholder")
        elif a.required and skip not in a.option_strings:
            argv += [a.option_strings[0], "placeholder"]
    return argv


COUNT_FLAGS = ("--threads", "--workers")
COUNT_OPTIONS = [(path, flag, _minimal_argv(path, p, flag)) for path, p in _subcommands(build_parser())
                 for flag in COUNT_FLAGS if flag in p._option_string_actions]


def test_positive_int():
    assert positive_int("3") == 3
    for bad in ("0", "-1", "1.5", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError, match=">= 1"):
            positive_int(bad)


def test_count_options_are_found():
    found = {(" ".join(path), flag) for path, flag, _ in COUNT_OPTIONS}
    assert {("improve", "--threads"), ("refine", "--threads"), ("zoo build", "--threads"),
            ("zoo build", "--workers")} <= found


@pytest.mark.parametrize("value", ["0", "-2"])
@pytest.mark.parametrize("path, flag, argv", COUNT_OPTIONS, ids=[f"{' '.join(p)} {f}" for p, f, _ in COUNT_OPTIONS])
def test_every_thread_and_worker_count_must_be_positive(capsys, tmp_path, monkeypatch, path, flag, argv, value):
    """Refused before any work, by every command (not a RuntimeError from torch.set_num_threads, nor ignored)."""
    monkeypatch.chdir(tmp_path)
    try:
        code = main([*argv, flag, value])
    except SystemExit as e:  # argparse's usage error
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and flag.lstrip("-") in err and ">= 1" in err and value in err
    assert list(tmp_path.iterdir()) == []


def test_out_file_and_out_dir(tmp_path):
    # ConfigErrors (ValueErrors, as every MetanetError subclass): they were the base MetanetError
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    assert out_file(tmp_path / "new" / "net.safetensors") == tmp_path / "new" / "net.safetensors"
    assert out_dir(tmp_path / "d") == tmp_path / "d" and out_dir(tmp_path / "new" / "dir")
    with pytest.raises(ConfigError, match=r"is a directory; give a file path, e\.g\. .*d/net\.safetensors"):
        out_file(tmp_path / "d")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        out_file(tmp_path / "f" / "net.safetensors")
    with pytest.raises(ConfigError, match="needs a file path"):
        out_file("")
    with pytest.raises(ConfigError, match="is an existing file, not a directory; give a new or existing directory"):
        out_dir(tmp_path / "f")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        out_dir(tmp_path / "f" / "sub")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_out_paths_refuse_a_read_only_directory(tmp_path, monkeypatch):
    import os

    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    # root may write anywhere, so the file system's "no" is simulated for this one directory
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))
    with pytest.raises(ConfigError, match=r"ro is not writable; give a file path, e\.g\. net\.safetensors"):
        out_file(ro / "net.safetensors")
    with pytest.raises(ConfigError, match="ro is not writable; give a new or existing directory"):
        out_dir(ro / "sub" / "dir")
    assert out_file(tmp_path / "ok.safetensors") == tmp_path / "ok.safetensors"
    # --out naming the read-only folder itself: it was accepted (only its parent was checked) and the run failed
    # later; and an existing writable folder under a read-only parent was refused
    with pytest.raises(ConfigError, match="'.*ro' is a directory that is not writable"):
        out_dir(ro)
    (ro / "ok").mkdir()
    assert out_dir(ro / "ok") == ro / "ok"


def test_train_setup_mistakes_are_one_line(tmp_path, monkeypatch, capsys):
    """A MetanetError raised while LightningCLI sets the run up (here: a zoo directory that is not a zoo) is one
    line and exit code 2; ``--debug`` before ``train`` keeps the traceback."""
    from metanet.errors import ZooError

    monkeypatch.chdir(tmp_path)
    args = ["train", "fit", "-c", str(Path(__file__).resolve().parents[1] / "train" / "reader.yaml"),
            f"--data.init_args.zoos=[{tmp_path / 'nozoo'}]", "--trainer.fast_dev_run=true",
            f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("metanet: error: ")
    assert "nozoo is not a zoo" in err and "metanet zoo build" in err
    with pytest.raises(ZooError):
        main(["--debug", *args])
    # an option the model's __init__ refuses: jsonargparse re-raises it as its own ValueError
    args = ["train", "fit", "-c", str(Path(__file__).resolve().parents[1] / "train" / "writer.yaml"),
            "--model.init_args.augment=bogus", "--trainer.fast_dev_run=true",
            f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}"]
    assert main(args) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "metanet: error: unknown support augmentation 'bogus'; valid: none, shift")


def test_file_system_refusals_are_one_line(monkeypatch, capsys):
    """An OSError naming a path (read-only file system, no permission) is reported like a user mistake."""

    def refuse(args):
        raise PermissionError(13, "Permission denied", "/srv/ro/net.safetensors")

    parser = build_parser()
    monkeypatch.setattr("metanet.cli.build_parser", lambda: parser)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.choices["tasks"].set_defaults(run=refuse)
    assert main(["tasks"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "metanet: error: Permission denied: /srv/ro/net.safetensors"
    with pytest.raises(PermissionError):  # --debug keeps the traceback
        main(["--debug", "tasks"])


# every output path a command takes: (argv before the path, the option, argv after it, "file" or "dir")
OUT_CASES = {
    "generate": (["generate", "digits"], "--out", [], "file"),
    "improve": (["improve", "digits", "--rounds", "1"], "--out", [], "file"),
    "improve --log-dir": (["improve", "digits", "--rounds", "1"], "--log-dir", [], "dir"),
    "refine": (["refine", "{net}", "--task", "digits"], "--out", [], "file"),
    "inspect": (["inspect", "{net}"], "--out", [], "dir"),
    "inspect --tensorboard": (["inspect", "{net}", "--out", "{tmp}/o"], "--tensorboard", [], "dir"),
    "edit": (["edit", "{net}", "--prune", "0.2"], "--out", [], "file"),
    "graph --plot": (["graph", "{net}"], "--plot", [], "file"),
    "zoo build": (["zoo", "build", "tiny"], "--out", [], "dir"),
    "zoo merge": (["zoo", "merge"], "", ["{tmp}"], "dir"),  # the destination is positional
    "demo": (["demo", "--quick"], "--out", [], "dir"),
}


def test_out_cases_cover_every_output_option():
    opts = {(path, flag) for path, p in _subcommands(build_parser()) for flag in p._option_string_actions
            if flag in ("--out", "--plot", "--log-dir", "--tensorboard")}
    covered = {(tuple(a[:2] if a[0] == "zoo" else a[:1]), flag) for a, flag, _, _ in OUT_CASES.values() if flag}
    assert opts <= covered, opts - covered


@pytest.mark.parametrize("case", sorted(OUT_CASES))
def test_every_output_path_of_the_wrong_kind_is_one_error_line(capsys, tmp_path, monkeypatch, case):
    """An existing directory where a file is written, an existing file where a directory is: one line naming the
    path and what is valid, exit 2, before any work (no IsADirectoryError/FileExistsError traceback)."""
    monkeypatch.chdir(tmp_path)
    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    before, flag, after, kind = OUT_CASES[case]
    wrong = tmp_path / "existing"
    if kind == "file":
        wrong.mkdir()
    else:
        wrong.write_text("keep me")
    argv = [a.format(net=net, tmp=tmp_path) for a in [*before, *([flag] if flag else [])]]
    argv += [str(wrong), *(a.format(tmp=tmp_path) for a in after)]
    assert main(argv) == 2, argv
    line = _one_error_line(capsys.readouterr().err)
    assert str(wrong) in line and "directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "net.safetensors"]
    assert wrong.is_dir() if kind == "file" else wrong.read_text() == "keep me"


# --- --json is one valid JSON document, also for a broken network ---------------------------------------------
@pytest.fixture
def nan_model(tmp_path) -> Path:
    model = build("mlp:64-8-10:relu", seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    return save(model, tmp_path / "nan.safetensors", task="digits")


@pytest.mark.parametrize("argv", [
    ["verify", "{net}", "--task", "digits", "--json"],
    ["inspect", "{net}", "--out", "{tmp}/insp", "--no-pictures", "--no-reader", "--json"],
    ["edit", "{net}", "--prune", "0.2", "--out", "{tmp}/pruned.safetensors", "--json"],
], ids=lambda a: a[0])
def test_json_output_has_no_nan_or_infinity(capsys, tmp_path, nan_model, argv):
    """A network whose loss is infinite and whose reading is NaN: --json still prints valid JSON (null there)."""
    assert main([a.format(net=nan_model, tmp=tmp_path) for a in argv]) == 0
    _strict_json(capsys.readouterr().out)


def test_read_of_a_nan_network_is_one_error_line(capsys, nan_model):
    """A reading of NaN weights would be NaN everywhere: refused, as metanet graph refuses the network."""
    assert main(["read", str(nan_model), "--no-scan", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("metanet: error: ") and "NaN or infinite weights" in err and "\n" not in err


def test_verify_json_of_an_infinite_loss_is_null(capsys, nan_model):
    assert main(["verify", str(nan_model), "--task", "digits"]) == 0
    assert "loss inf" in capsys.readouterr().out
    assert main(["verify", str(nan_model), "--task", "digits", "--json"]) == 0
    d = _strict_json(capsys.readouterr().out)
    assert d["loss"] is None and d["n"] == 360


def test_a_closed_stdout_is_not_a_traceback(tmp_path):
    """``metanet ... | head -1``: the reader closes the pipe early; the command stops quietly (no traceback, no
    'Exception ignored' at exit) with the shell's exit code for SIGPIPE."""
    import subprocess

    net = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors")
    p = subprocess.Popen([sys.executable, "-m", "metanet", "graph", str(net)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp_path)
    p.stdout.close()  # before the command writes anything
    err = p.stderr.read().decode()
    assert p.wait() == 141, err
    assert err == ""


def test_help_lists_train():
    """`metanet train` (dispatched to LightningCLI before argparse) is listed in `metanet --help` too."""
    text = build_parser().format_help()
    assert re.search(r"^ +train +meta-train", text, re.M), text


def test_a_broken_pipe_that_is_not_stdout_is_not_hidden(monkeypatch):
    """Only a closed stdout stops quietly: a BrokenPipeError from anything else (a worker's pipe) propagates."""

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    parser = build_parser()
    monkeypatch.setattr("metanet.cli.build_parser", lambda: parser)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.choices["tasks"].set_defaults(run=broken)
    with pytest.raises(BrokenPipeError):
        main(["tasks"])


# --- a file of an examples task: each command names its own Python call -----------------------------------------------


def test_a_file_of_an_examples_task_is_sent_to_the_python_call_of_its_own_command(tmp_path, capsys):
    # task_for, shared by verify, inspect and edit since today, told `metanet verify` users to call
    # metanet.inspect(path, (x, y)) (no verification) and `metanet edit` users the same
    import metanet
    from metanet.cli import main

    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-3"), seed=0)
    path = metanet.save(net, tmp_path / "examples.safetensors", task="examples-1a2b3c4d")
    said = {}
    for argv in (["verify", str(path)], ["edit", str(path), "--prune", "0.1", "--out", str(tmp_path / "e.st")],
                 ["inspect", str(path), "--out", str(tmp_path / "ins"), "--no-reader"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "was made for task 'examples-1a2b3c4d'" in err, err
        said[argv[0]] = err.split("in Python give its examples: ")[1]
    assert said["verify"] == "metanet.verify(path, (x, y))"
    assert said["edit"].startswith("the metanet.edit functions take them as the task, e.g. metanet.edit.remove(")
    assert said["inspect"].startswith("metanet.inspect(path, (x, y))")
    # and the calls named do take the file with its examples
    x, y = tasks.get("digits[0,1,2]").split("test")
    assert metanet.verify(str(path), (x, y)).task.startswith("examples-")
    assert metanet.edit.remove(str(path), "1:0", (x, y)).report is not None
