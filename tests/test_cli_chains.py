"""The commands chained as a shell script chains them: one command's file is the next one's input, and the numbers
and metadata agree across commands (generate's test accuracy is verify's, an edit's "after" is verify's of the
edited file, inspect's accuracy is verify's; a file's task and class_names go together)."""

from __future__ import annotations

import json

from metanet.cli import main
from metanet.io import load_meta, save
from metanet.nets import build


def _json(capsys) -> dict:
    """The whole of stdout, which must be one JSON document."""
    return json.loads(capsys.readouterr().out)


def test_generate_verify_edit_inspect_numbers_agree(tmp_path, capsys):
    a, b = tmp_path / "nested" / "a.safetensors", tmp_path / "b.safetensors"
    assert main(["generate", "digits", "--candidates", "2", "--out", str(a), "--json"]) == 0
    gen = _json(capsys)
    assert gen["out"] == str(a) and a.is_file()
    assert main(["verify", str(a), "--task", "digits", "--json"]) == 0
    verified = _json(capsys)
    assert {**verified, "seconds": None} == {**gen["test"], "seconds": None}  # every number but the time taken
    assert load_meta(a)["class_names"] == gen["class_names"] and load_meta(a)["task"] == gen["task"] == "digits"

    assert main(["edit", str(a), "--remove", "1:0,1", "--prune", "0.5", "--out", str(b), "--json"]) == 0
    edits = _json(capsys)["edits"]
    assert edits[0]["before"]["accuracy"] == gen["test"]["accuracy"]
    assert main(["verify", str(b), "--task", "digits", "--json"]) == 0
    after = _json(capsys)
    assert (after["accuracy"], after["loss"]) == (edits[-1]["after"]["accuracy"], edits[-1]["after"]["loss"])
    assert load_meta(b)["test_accuracy"] == after["accuracy"]

    assert main(["inspect", str(b), "--out", str(tmp_path / "insp"), "--no-pictures", "--no-reader", "--json"]) == 0
    meta = _json(capsys)["meta"]
    assert (meta["task"], meta["accuracy"], meta["class_names"]) == ("digits", after["accuracy"], gen["class_names"])
    assert main(["graph", str(b), "--json"]) == 0
    assert _json(capsys)["arch"] == gen["arch"]


def _two_class_net(tmp_path):
    """A network saved as 'digits[3,8]': output 0 means '3', output 1 means '8'."""
    return save(build("mlp:64-16-2:relu", seed=0), tmp_path / "net.safetensors", task="digits[3,8]",
                class_names=["3", "8"], test_accuracy=0.5)


def test_edit_on_another_task_records_that_tasks_class_names(tmp_path, capsys):
    """Edited on another task, the file named the new task but kept the old one's class_names: `metanet read` named
    the outputs '3', '8' while `metanet inspect` (on the file's task) named them '0', '1'."""
    out = tmp_path / "edited.safetensors"
    assert main(["edit", str(_two_class_net(tmp_path)), "--task", "digits[0,1]", "--remove", "1:0", "--out", str(out),
                 "--json"]) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert meta["task"] == "digits[0,1]" and meta["class_names"] == ["0", "1"]
    # the same task as the file's: its recorded names are kept as they are
    again = tmp_path / "again.safetensors"
    assert main(["edit", str(out), "--remove", "1:1", "--out", str(again)]) == 0
    capsys.readouterr()
    assert load_meta(again)["class_names"] == ["0", "1"] and load_meta(again)["task"] == "digits[0,1]"


def test_refine_on_another_task_records_that_tasks_class_names(tmp_path, capsys):
    out = tmp_path / "refined.safetensors"
    assert main(["refine", str(_two_class_net(tmp_path)), "--task", "digits[0,1]", "--steps", "1", "--population", "2",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert meta["task"] == "digits[0,1]" and meta["class_names"] == ["0", "1"]


def test_refining_an_edited_file_drops_the_edits_accuracy(tmp_path, capsys):
    """An edited file states accuracy_after_edits; refined, the new file still stated it, an accuracy of the weights
    before the refinement (its {split}_accuracy, measured on those weights too, was already dropped)."""
    src, edited, out = _two_class_net(tmp_path), tmp_path / "edited.safetensors", tmp_path / "refined.safetensors"
    assert main(["edit", str(src), "--remove", "1:0", "--out", str(edited)]) == 0
    assert "accuracy_after_edits" in load_meta(edited)
    assert main(["refine", str(edited), "--task", "digits[3,8]", "--steps", "1", "--population", "2",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert "accuracy_after_edits" not in meta and meta["class_names"] == ["3", "8"] and meta["edits"]


def test_refine_json_is_one_document_that_verify_of_the_saved_file_agrees_with(tmp_path, capsys):
    """`metanet refine` was the one command that writes a network without --json (a usage error): a script could
    only scrape its before/after lines."""
    out = tmp_path / "refined.safetensors"
    assert main(["refine", str(_two_class_net(tmp_path)), "--task", "digits[3,8]", "--steps", "2", "--population", "2",
                 "--out", str(out), "--json"]) == 0
    res = _json(capsys)
    assert res["out"] == str(out) and (res["method"], res["steps"]) == ("perturbation", 2)
    assert res["before"]["split"] == res["after"]["split"] == "val" and load_meta(out)["val_accuracy"] == \
        res["after"]["accuracy"]
    assert main(["verify", str(out), "--task", "digits[3,8]", "--split", "val", "--json"]) == 0
    verified = _json(capsys)
    assert (verified["accuracy"], verified["loss"]) == (res["after"]["accuracy"], res["after"]["loss"])
    # without --out: the reports alone, and the text form is unchanged
    assert main(["refine", str(out), "--task", "digits[3,8]", "--steps", "1", "--population", "2", "--json"]) == 0
    assert "out" not in _json(capsys)
    assert main(["refine", str(out), "--task", "digits[3,8]", "--steps", "1", "--population", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("before: digits[3,8]/val: accuracy ") and lines[-1].startswith("  per class:")
