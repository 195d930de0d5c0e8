"""The ``metanet`` command line: ``--version``, ``verify``, ``tasks``, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import runpy
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

import metanet
from metanet.cli import main
from metanet.errors import FileFormatError
from metanet.io import save
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
    out = capsys.readouterr().out
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
    fake = types.SimpleNamespace(get=lambda name: task if name == "handmade" else pytest.fail(f"asked for {name}"))
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
