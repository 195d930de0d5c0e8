"""What each output means reaches the reader, and tasks without a name reach inspect and the edits.

``metanet.generate`` records ``class_names`` in the file it saves; ``metanet read FILE`` (text and ``--json``) and
``metanet.read(path)`` did not show them. ``metanet.inspect`` and the edits took a task given as any object with
``split`` and ``num_classes`` (as generate and verify do) and failed with a raw AttributeError on its ``name`` /
``input_shape``.
"""

from __future__ import annotations

import json

import pytest

import metanet
from metanet.cli import main

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def digits():
    return metanet.tasks.get("digits")


@pytest.fixture(scope="module")
def named_file(digits, tmp_path_factory):
    """A network generated from a tiny digits subset given with class names, saved by ``g.save``."""
    x, y = digits.split("train")
    g = metanet.generate(metanet.tasks.from_examples(x[:300], y[:300], class_names=NAMES), candidates=1)
    return g.save(tmp_path_factory.mktemp("named") / "named.safetensors")


def test_read_gives_the_names_the_file_records_and_the_same_figures(named_file):
    assert metanet.load_meta(named_file)["class_names"] == NAMES
    out = metanet.read(named_file, scan=False)
    assert out["class_names"] == NAMES
    # the names are no reading: the same figures as for the loaded network, which records none
    plain = metanet.read(metanet.load(named_file), scan=False)
    assert plain.pop("class_names") is None and plain.pop("recorded_task") is None
    assert {k: v for k, v in out.items() if k not in ("class_names", "recorded_task")} == plain


def test_metanet_read_shows_the_names_as_text_and_json(named_file, capsys):
    assert main(["read", str(named_file), "--no-scan"]) == 0
    text = capsys.readouterr().out
    assert "  outputs    0='zero', 1='one', 2='two', 3='three'" in text and "9='nine'" in text
    assert main(["read", str(named_file), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class_names"] == NAMES


@pytest.mark.parametrize("meta, shown", [
    ({"task": "digits"}, None),  # an old-style file: no class_names key
    ({"class_names": None}, None),  # generate's "unknown"
    ({"class_names": ["a", "b"]}, None),  # not one name per output: no names rather than wrong ones
    ({"class_names": [str(i) for i in range(10)]}, [str(i) for i in range(10)]),  # just numbers: no text line
])
def test_a_file_without_usable_names_gives_none_and_no_line(meta, shown, tmp_path, capsys):
    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    path = metanet.save(net, tmp_path / "net.safetensors", **meta)
    assert metanet.read(path, scan=False)["class_names"] == shown
    assert main(["read", str(path), "--no-scan"]) == 0
    text = capsys.readouterr().out
    assert "outputs" not in text and "accuracy" in text
    assert main(["read", str(path), "--no-scan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class_names"] == shown


class Unnamed:
    """A task as any object with ``split`` and ``num_classes``: no ``name``, no ``input_shape``."""

    def __init__(self, task):
        self.num_classes, self._task = task.num_classes, task

    def split(self, name):
        x, y = self._task.split(name)
        return x[:200], y[:200]


def test_inspect_and_edits_take_a_task_without_name_or_input_shape(digits):
    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    task = Unnamed(digits)
    db = metanet.inspect(net, task, reader=None)
    assert db.meta["task"] == "Unnamed" and db.meta["input_shape"] == [1, 8, 8] and db.meta["n"] == 200
    result = metanet.edit.remove(net, "1:0", task)
    assert result.report.details["removed"] == 1
    assert metanet.edit.prune(net, 0.5, task, method="magnitude").report.after.n == 200
    with pytest.raises(metanet.errors.ArchError, match="task 'Unnamed'"):  # the error names it as generate does
        metanet.edit.remove(metanet.nets.build(metanet.nets.Arch.parse("mlp:32-16-10"), seed=0), "1:0", task)
    trigger = {"size": 2, "location": [0, 0], "kind": "square", "target": 0}
    assert 0 <= metanet.edit.attack_success_rate(net, task, trigger) <= 1


def test_save_pictures_takes_a_task_without_input_shape(digits, tmp_path):
    from metanet.inspect import save_pictures

    net = metanet.nets.build(metanet.nets.Arch.parse("mlp:64-16-10"), seed=0)
    task = Unnamed(digits)
    db = metanet.inspect(net, task, reader=None)
    names = {p.name for p in save_pictures(net, task, db, tmp_path / "pics")}
    assert "weights_layer1.png" in names  # drawn as for an image task: the inputs are 8x8 images
