"""A generated network keeps the meaning of its outputs: the report and the saved file record ``class_names``.

Output ``i`` of ``g.model`` means ``class_names[i]`` of the task it was written for; the report, ``g.save``'s header,
``metanet generate`` (text and ``--json``) and ``metanet.inspect`` of the saved file (or of the Generated) with the
bare examples all said nothing of it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import metanet
from metanet.cli import main
from metanet.errors import FileFormatError, TaskError
from metanet.writer import GenerationReport, generate

KW = dict(candidates=2, shots=10)


@pytest.fixture(scope="module")
def pets():
    """Three separable classes labelled by strings, renumbered as metanet's error messages advise."""
    rng = np.random.default_rng(0)
    labels = np.array(["dog", "cat", "bird"])[np.arange(90) % 3]
    x = rng.random((90, 4)) * 0.1
    x[:, 0] += (np.arange(90) % 3) / 3  # feature 0 tells the classes apart
    names, y = np.unique(labels, return_inverse=True)
    return x.astype(np.float32), y, names


def test_an_examples_tasks_names_survive_generate_save_load_and_inspect(pets, untrained, tmp_path):
    x, y, names = pets
    g = generate(metanet.tasks.from_examples(x, y, class_names=names), writer=untrained, **KW)
    assert g.report.class_names == ["bird", "cat", "dog"]
    assert "outputs 0='bird', 1='cat', 2='dog'" in str(g.report)
    path = g.save(tmp_path / "pets.safetensors")
    meta = metanet.load_meta(path)
    assert meta["class_names"] == ["bird", "cat", "dog"] and meta["task"] == g.report.task
    back = GenerationReport.from_dict(json.loads(json.dumps(metanet.io.json_safe(g.report.to_dict()))))
    assert back == g.report and back.class_names == ["bird", "cat", "dog"] and str(back) == str(g.report)
    # the bare examples have no names: the file's (or the Generated's) tell what the outputs are
    for model in (path, str(path), g):
        db = metanet.inspect(model, (x, y), reader=None)
        assert db.class_names == ["bird", "cat", "dog"]
        assert db.meta["class_names"] == ["bird", "cat", "dog"]
    assert any("(bird)" in r["description"] or "(cat)" in r["description"] or "(dog)" in r["description"]
               for r in metanet.inspect(path, (x, y), reader=None))
    # a module alone records nothing: numbered as before
    assert metanet.inspect(g.model, (x, y), reader=None).class_names == ["0", "1", "2"]
    # a task with names of its own keeps them, whatever the file says
    other = metanet.tasks.from_examples(x, y, class_names=["a", "b", "c"])
    assert metanet.inspect(path, other, reader=None).class_names == ["a", "b", "c"]


def test_a_derived_fashion_tasks_names_go_through_the_cli(tmp_path, capsys):
    out = tmp_path / "shoes.safetensors"
    assert main(["generate", "fashion-mnist[5,7,9]", "--candidates", "1", "--shots", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "outputs 0='Sandal', 1='Sneaker', 2='Ankle boot'" in text
    assert metanet.load_meta(out)["class_names"] == ["Sandal", "Sneaker", "Ankle boot"]
    assert main(["generate", "fashion-mnist[5,7,9]", "--candidates", "1", "--shots", "5", "--no-verify",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["class_names"] == ["Sandal", "Sneaker", "Ankle boot"]
    assert GenerationReport.from_dict(d).class_names == ["Sandal", "Sneaker", "Ankle boot"]
    assert main(["inspect", str(out), "--out", str(tmp_path / "db"), "--no-pictures", "--no-reader",
                 "--max-examples", "60", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["class_names"] == ["Sandal", "Sneaker", "Ankle boot"]


class _Unnamed:
    """A task given as any object with split and num_classes, without class names."""

    name = "unnamed"

    def __init__(self, task):
        self._t, self.num_classes, self.input_shape = task, task.num_classes, task.input_shape

    def split(self, name):
        return self._t.split(name)


def test_a_relabelled_tasks_names_move_with_their_labels(untrained, tmp_path):
    task = metanet.tasks.resolve("digits+relabel(3)")
    g = generate(task, writer=untrained, **KW)
    want = task.class_names
    assert want != [str(i) for i in range(10)]  # the check below means something only when relabelled
    assert g.report.class_names == want
    assert "outputs 0=" + repr(want[0]) + ", 1=" + repr(want[1]) in str(g.report)
    path = g.save(tmp_path / "relabelled.safetensors")
    assert metanet.load_meta(path)["class_names"] == want
    assert metanet.inspect(path, "digits+relabel(3)", reader=None, max_examples=50).class_names == want
    # a task that names nothing takes the file's names
    assert metanet.inspect(path, _Unnamed(task), reader=None, max_examples=50).class_names == want
    u = generate(_Unnamed(task), writer=untrained, **KW)
    assert u.report.class_names is None and "outputs" not in str(u.report)
    assert metanet.load_meta(u.save(tmp_path / "unnamed.safetensors"))["class_names"] is None


def test_numbered_classes_are_recorded_but_not_printed(untrained):
    g = generate("digits", writer=untrained, **KW)
    assert g.report.class_names == [str(i) for i in range(10)]
    assert "outputs" not in str(g.report)  # "0='0', 1='1', ..." would say nothing


def test_many_names_are_elided_in_the_text_form():
    from metanet.writer.generate import _SHOWN_NAMES

    d = dict(_OLD, class_names=[f"c{i}" for i in range(_SHOWN_NAMES + 5)])
    line = [s for s in str(GenerationReport.from_dict(d)).splitlines() if s.startswith("outputs")][0]
    assert line.endswith(f", ... ({_SHOWN_NAMES + 5} classes)") and f"{_SHOWN_NAMES}=" not in line


_OLD = dict(task="digits", arch="mlp:64-8-10:relu", support=50, candidates=[{"val_accuracy": 0.5, "val_loss": 1.0}],
            chosen=0, test=None, seconds=1.0, seconds_write=0.5, seed=0, shots=5, writer={"source": "shipped"})


def test_an_old_report_without_class_names_still_loads_and_compares():
    old = GenerationReport.from_dict(_OLD)  # written before the names were recorded
    assert old.class_names is None and "outputs" not in str(old)
    assert old == GenerationReport.from_dict(dict(_OLD, class_names=None))
    assert old != GenerationReport.from_dict(dict(_OLD, class_names=["a"] * 10))
    assert GenerationReport.from_dict(dict(_OLD, class_names=("a", "b"))).class_names == ["a", "b"]


@pytest.mark.parametrize("bad", ["abc", [1, 2], {"0": "a"}, 3])
def test_malformed_class_names_in_a_report_are_a_file_format_error(bad):
    with pytest.raises(FileFormatError, match="class_names are a list of strings"):
        GenerationReport.from_dict(dict(_OLD, class_names=bad))


def test_an_old_file_without_class_names_inspects_as_before(pets, tmp_path):
    x, y, _ = pets
    net = metanet.nets.build("mlp:4-8-3:relu", seed=0)
    path = metanet.save(net, tmp_path / "old.safetensors", task="examples-00000000")  # no class_names
    assert metanet.inspect(path, (x, y), reader=None).class_names == ["0", "1", "2"]


def test_inspect_cli_says_why_a_file_from_examples_needs_a_task(pets, untrained, tmp_path, capsys):
    x, y, names = pets
    g = generate(metanet.tasks.from_examples(x, y, class_names=names), writer=untrained, **KW)
    path = g.save(tmp_path / "pets.safetensors")
    # was the resolver's long list of task forms, as if the user had mistyped a name
    assert main(["inspect", str(path), "--out", str(tmp_path / "db"), "--no-pictures", "--no-reader"]) == 2
    err = capsys.readouterr().err
    assert f"was made for task {g.report.task!r}, which metanet cannot load by name" in err
    assert "metanet.inspect(path, (x, y))" in err and "valid forms" not in err
    with pytest.raises(TaskError):  # the Python API still needs the data
        metanet.inspect(path, g.report.task, reader=None)
