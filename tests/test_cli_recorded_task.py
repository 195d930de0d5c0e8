"""The task a saved network records reaches ``metanet verify`` and ``metanet read``; ``graph --json`` of an MLP.

``metanet verify FILE`` required ``--task`` while ``inspect`` and ``edit`` default to the task the file's metadata
records. ``metanet read FILE`` and ``metanet.read(path)`` showed only the reader's guess of the task, always one of
the tasks the reader knows (a ``digits+invert`` network is read as ``digits``), not the task the file records.
``metanet graph FILE --json`` printed the cnn-only ``kernel`` and ``stride`` in an MLP's spec.
"""

from __future__ import annotations

import json

import pytest

import metanet
from metanet.cli import main


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metanet: error: ") and "Traceback" not in err, err
    return lines[0]


def _figures(report: dict) -> dict:
    """A verify report without its wall-clock time."""
    return {k: v for k, v in report.items() if k != "seconds"}


@pytest.fixture(scope="module")
def derived_file(tmp_path_factory):
    """A network generated for a task the reader does not know, saved with its task recorded."""
    g = metanet.generate("digits+invert", candidates=1, seed=0)
    return g.save(tmp_path_factory.mktemp("derived") / "inverted.safetensors")


@pytest.fixture()
def untasked_file(tmp_path):
    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    return metanet.save(net, tmp_path / "plain.safetensors")


# --- verify --------------------------------------------------------------------------------------------------------


def test_verify_without_task_runs_on_the_recorded_task(derived_file, capsys):
    assert metanet.load_meta(derived_file)["task"] == "digits+invert"
    assert main(["verify", str(derived_file), "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["verify", str(derived_file), "--task", "digits+invert", "--json"]) == 0
    given = json.loads(capsys.readouterr().out)
    assert default["task"] == "digits+invert" and _figures(default) == _figures(given)
    assert default["accuracy"] > 0.5  # on its own (inverted) data, not plain digits
    # an explicit --task still wins over the recorded one
    assert main(["verify", str(derived_file), "--task", "digits", "--split", "val", "--json"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["task"] == "digits" and other["split"] == "val"


def test_verify_of_a_file_without_a_task_is_inspects_one_line_error(untasked_file, capsys):
    assert main(["verify", str(untasked_file)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no --task given" in line and "names no task in its metadata" in line and "pass --task NAME" in line
    assert main(["inspect", str(untasked_file), "--out", str(untasked_file.parent / "ins"), "--no-reader"]) == 2
    assert _one_error_line(capsys.readouterr().err) == line  # the same helper, the same words
    assert main(["verify", str(untasked_file), "--task", "digits", "--json"]) == 0  # --task still works
    assert json.loads(capsys.readouterr().out)["task"] == "digits"


def test_verify_of_a_file_whose_task_cannot_be_loaded_names_it(tmp_path, capsys):
    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    path = metanet.save(net, tmp_path / "examples.safetensors", task="examples-1a2b3c4d")
    assert main(["verify", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "was made for task 'examples-1a2b3c4d', which metanet cannot load by name" in line


def test_verify_help_says_the_task_is_optional(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "[--task TASK]" in text and "without it, the task named in the file's metadata" in text


# --- read ----------------------------------------------------------------------------------------------------------


def test_read_gives_the_recorded_task_beside_the_readers_guess(derived_file, capsys):
    out = metanet.read(derived_file, scan=False)
    assert out["recorded_task"] == "digits+invert"
    assert out["task"] in out["task_probabilities"]  # the reader's guess: one of its own tasks
    assert metanet.read(metanet.load(derived_file), scan=False)["recorded_task"] is None  # no file, no record
    assert main(["read", str(derived_file), "--no-scan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  recorded   task digits+invert (from the file)" in lines
    assert lines.index("  recorded   task digits+invert (from the file)") == 2  # right below the reader's guess
    assert main(["read", str(derived_file), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recorded_task"] == "digits+invert"


@pytest.mark.parametrize("meta", [{}, {"task": ""}, {"task": 3}, {"task": None}])
def test_a_file_without_a_usable_task_gives_none_and_no_line(meta, tmp_path, capsys):
    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    path = metanet.save(net, tmp_path / "net.safetensors", **meta)
    assert metanet.read(path, scan=False)["recorded_task"] is None
    assert main(["read", str(path), "--no-scan"]) == 0
    text = capsys.readouterr().out
    assert "recorded" not in text and "accuracy" in text
    assert main(["read", str(path), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recorded_task"] is None


def test_read_docstring_names_the_key_and_what_the_guess_means():
    doc = metanet.read.__doc__
    assert "``recorded_task``" in doc and "nearest known task" in doc


# --- graph ---------------------------------------------------------------------------------------------------------


def test_graph_json_of_an_mlp_has_no_kernel_or_stride(untasked_file, capsys):
    assert main(["graph", str(untasked_file), "--json"]) == 0
    spec = json.loads(capsys.readouterr().out)["spec"]
    assert spec == {"family": "mlp", "widths": [64, 16, 10], "activation": "relu", "bias": True, "skips": False}
    assert metanet.nets.Arch.from_dict(spec) == metanet.nets.Arch.parse("mlp:64-16-10")  # still reads back
    # only the printout: the canonical spec that graphs and zoo indexes store is unchanged
    stored = metanet.graph.describe(metanet.graph.to_graph(metanet.load(untasked_file))).to_dict()["spec"]
    assert stored["kernel"] == 3 and stored["stride"] == 2


def test_graph_json_of_a_cnn_keeps_kernel_and_stride(tmp_path, capsys):
    arch = metanet.nets.Arch.parse("cnn:1-4-10:k3:s2")
    path = metanet.save(metanet.nets.build(arch, seed=0), tmp_path / "cnn.safetensors")
    assert main(["graph", str(path), "--json"]) == 0
    spec = json.loads(capsys.readouterr().out)["spec"]
    assert spec["family"] == "cnn" and spec["kernel"] == 3 and spec["stride"] == 2
