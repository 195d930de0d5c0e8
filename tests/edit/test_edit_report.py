"""Edit reports and edited files tell the truth (`metanet.edit.report`, `save_edited`): what is claimed is what the
weights are. A precision edit's byte count matches the weights' values; an edited file keeps no accuracy of the
network before the edit; a backdoor repair's report says what each round did (a round that changed nothing is
"none", compounded scale rounds give the overall factor) and whether its goal was reached, and by how much (text,
JSON and `metanet edit`)."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
from inspect_helpers import digits_mlp

from metanet import edit
from metanet.cli import main
from metanet.edit import repair
from metanet.io import load, load_meta, save
from metanet.nets import build

ARCH = "mlp:64-16-10:relu:nobias"  # no output bias: the repair cannot recalibrate the target's bias


@pytest.fixture(scope="module")
def net():
    return build("mlp:64-16-10:relu", seed=0)


@pytest.fixture(scope="module")
def clean():
    return digits_mlp(ARCH, epochs=10)


def full_trigger(model) -> dict:
    """A trigger stamping the whole image with 1: every stamped image is the same, so the network sends it to
    one class (the target) whatever it was, and no pixel is left to impute a cut from (no ``cut`` variant)."""
    target = int(model(torch.ones(1, 1, 8, 8)).argmax())
    return {"kind": "square", "size": 8, "location": [0, 0], "pattern": [[1] * 8] * 8, "target": target}


def test_fp32_on_a_float64_network_really_rounds_to_float32(net):
    m64 = copy.deepcopy(net).double()  # .double() alone would change the shared fixture
    with torch.no_grad():
        m64.layers[0].weight.add_(1e-12)  # float64 detail float32 cannot hold
    w = m64.layers[0].weight.detach().clone()
    out, rep = edit.precision(m64, "0=fp32", "digits")
    # the report counts region 0 at 32 bits per weight: its weights must be float32 values
    assert rep.details["weight_bytes"] == 64 * 16 * 4 + 16 * 10 * 8
    assert torch.equal(out.layers[0].weight, w.float().double())
    assert not torch.equal(out.layers[0].weight, w)
    assert torch.equal(out.layers[1].weight, m64.layers[1].weight)  # the region not named is untouched
    assert out.layers[0].weight.dtype == torch.float64  # stored in the network's dtype, as documented
    q = edit.quantize(w, "fp32")
    assert q.dtype == torch.float64 and torch.equal(q, w.float().double())
    w32 = w.float()
    q32 = edit.quantize(w32, "fp32")
    assert torch.equal(q32, w32) and q32.data_ptr() != w32.data_ptr()  # a copy, as for every other format


def test_an_edited_file_does_not_keep_the_accuracy_of_the_network_before_the_edit(net, tmp_path):
    src = tmp_path / "net.safetensors"
    save(net, src, task="digits", test_accuracy=0.99, val_accuracy=0.98, train_accuracy=0.97, note="kept")
    out = tmp_path / "edited.safetensors"
    assert main(["edit", str(src), "--remove", "1:0-7", "--out", str(out)]) == 0
    meta = load_meta(out)
    last = meta["edits"][-1]
    assert last["split"] == "test"
    # the test accuracy stated is the edited network's, the others (not measured on it) are gone
    assert meta["test_accuracy"] == last["accuracy"][1] == meta["accuracy_after_edits"]
    assert "val_accuracy" not in meta and "train_accuracy" not in meta
    assert meta["note"] == "kept" and meta["task"] == "digits"
    # and it is true: measured again on the file
    from metanet import verify

    assert verify(load(out), "digits", "test").accuracy == meta["test_accuracy"]


def test_save_edited_on_another_task_states_no_accuracy_for_the_file_task(net, tmp_path):
    model, rep = edit.remove(net, "1:0", "digits", split="val")
    path = edit.save_edited(model, tmp_path / "e.safetensors", [rep], {"task": "digits[0-4]", "test_accuracy": 0.9})
    meta = load_meta(path)
    assert "test_accuracy" not in meta and "val_accuracy" not in meta  # measured on another task
    path = edit.save_edited(model, tmp_path / "f.safetensors", [rep], {"task": "digits", "test_accuracy": 0.9})
    meta = load_meta(path)
    assert "test_accuracy" not in meta and meta["val_accuracy"] == rep.after.accuracy


def test_a_round_that_changes_nothing_is_labelled_none(clean):
    trig = full_trigger(clean)
    model, rep = edit.repair_backdoor(clean, "digits", trig, alphas=(0.5,), max_drop=0.0)
    assert rep.asr_before == 1.0 and rep.asr_after == 1.0  # no edit within a zero budget moves it
    (only,) = rep.details["rounds"]
    assert only["strategy"] == "none" and only["neurons"] == [] and "alpha" not in only  # was "scale", alpha 0.5
    cal = only["calibration"]
    assert cal["asr"][0] == cal["asr"][1] and cal["clean_accuracy"][0] == cal["clean_accuracy"][1]
    assert rep.details["strategy"] == [] and rep.details["scaled"] == {}
    # the trigger works: it is still a backdoor found (that could not be repaired within the budget)
    assert rep.details["backdoor_found"] is True
    assert all(torch.equal(a, b) for a, b in zip(clean.state_dict().values(), model.state_dict().values()))


def test_a_trigger_that_already_fails_is_still_no_backdoor_found(clean):
    trig = {**full_trigger(clean), "size": 2, "location": [6, 6], "pattern": [[0, 0], [0, 0]]}
    _, rep = edit.repair_backdoor(clean, "digits", trig)
    assert rep.asr_before < 0.1
    assert rep.details["rounds"][0]["strategy"] == "none" and rep.details["backdoor_found"] is False


def _three_halvings(monkeypatch, neuron=(1, 3)):
    """Rounds of the search that each halve ``neuron`` (a network the goal is out of reach on in one step), then
    one that finds nothing more: what the search does on a CNN whose trigger channel a half-scale only weakens."""
    calls = []

    def fake(v, task, x, y, trig, *a, **k):
        calls.append(1)
        if len(calls) > 3:
            return {"strategy": "none", "neurons": [], "_variant": {"kind": "scale", "k": 0, "alpha": 0.5},
                    "calibration": {}, "within_margin": False}
        return {"strategy": "scale", "neurons": [neuron], "alpha": 0.5, "scores": [3.0],
                "_variant": {"kind": "scale", "k": 1, "alpha": 0.5}, "calibration": {}, "within_margin": False}

    monkeypatch.setattr(repair, "_select", fake)


def test_compounded_scale_rounds_report_the_overall_factor(clean, monkeypatch):
    _three_halvings(monkeypatch)
    model, rep = edit.repair_backdoor(clean, "digits", full_trigger(clean), max_rounds=5)
    rounds = rep.details["rounds"]
    assert [r["strategy"] for r in rounds] == ["scale", "scale", "scale", "none"]
    assert all(r["alpha"] == 0.5 for r in rounds[:3])
    assert rep.details["scaled"] == {"1:3": 0.125}  # 0.5 ** 3, not the per-round 0.5
    # and that is what the weights say: the outgoing column of neuron 3 is an eighth of what it was
    w0, w1 = clean.layers[1].weight[:, 3], model.layers[1].weight[:, 3]
    assert torch.allclose(w1, 0.125 * w0)
    assert "scaled: 1:3=0.125" in str(rep)


def test_cli_repair_shows_the_overall_factor(clean, monkeypatch, tmp_path, capsys):
    _three_halvings(monkeypatch)
    src, out = tmp_path / "in net.safetensors", tmp_path / "out.safetensors"
    save(clean, src, task="digits")
    trig = json.dumps(full_trigger(clean))
    assert main(["edit", str(src), "--out", str(out), "--repair-backdoor", "--trigger", trig]) == 0
    assert "scaled: 1:3=0.125" in capsys.readouterr().out
    out.unlink()
    _three_halvings(monkeypatch)  # the search afresh
    assert main(["edit", str(src), "--out", str(out), "--repair-backdoor", "--trigger", trig, "--json"]) == 0
    details = json.loads(capsys.readouterr().out)["edits"][0]["details"]
    assert details["scaled"] == {"1:3": 0.125}
    assert [r["strategy"] for r in details["rounds"]] == ["scale", "scale", "scale", "none"]


def test_a_repair_out_of_reach_says_the_goal_was_not_reached_and_by_how_much(clean):
    # a zero accuracy budget: no edit can lower the rate, the goal (0.1) is missed by 0.9
    _, rep = edit.repair_backdoor(clean, "digits", full_trigger(clean), alphas=(0.5,), max_drop=0.0)
    assert rep.asr_after == 1.0
    d = rep.details
    assert d["goal_reached"] is False
    g = d["goal"]
    assert g["reached"] is False and g["calibration_split"] == "val" and g["trigger"] == "known"
    assert g["asr"] == 1.0 and g["max_asr"] == 0.1 and math.isclose(g["asr_over_goal"], 0.9)
    assert g["drop_over_budget"] == 0.0 and g["split"] == "test" and math.isclose(g["asr_over_goal_on_split"], 0.9)
    text = str(rep)
    assert "goal_reached: False" in text
    line = next(l for l in text.splitlines() if l.strip().startswith("goal:"))
    assert "NOT reached" in line and "0.9000 over" in line and "on test" in line
    # the JSON summary (to_dict, what `metanet edit --json` prints) carries it too
    back = json.loads(json.dumps(rep.to_dict()))
    assert back["details"]["goal_reached"] is False and math.isclose(back["details"]["goal"]["asr_over_goal"], 0.9)


def test_a_trigger_that_already_fails_reached_the_goal(clean):
    trig = {**full_trigger(clean), "size": 2, "location": [6, 6], "pattern": [[0, 0], [0, 0]]}
    _, rep = edit.repair_backdoor(clean, "digits", trig)
    g = rep.details["goal"]
    assert rep.details["goal_reached"] is True and g["asr_over_goal"] == 0.0
    line = next(l for l in str(rep).splitlines() if l.strip().startswith("goal:"))
    assert "NOT" not in line and line.strip().startswith("goal: reached")


def test_the_goal_is_measured_on_the_edited_network(clean):
    # a reachable goal with the full budget: what the report says matches the rounds' own last measurement
    _, rep = edit.repair_backdoor(clean, "digits", full_trigger(clean), max_asr=1.0, max_drop=0.2)
    assert rep.details["goal_reached"] is True and rep.details["goal"]["asr_over_goal"] == 0.0


def test_cli_report_says_not_reached(clean, tmp_path, capsys):
    from metanet.cli import main
    from metanet.io import save

    src = tmp_path / "in net.safetensors"
    save(clean, src, task="digits")
    trig = json.dumps(full_trigger(clean))
    args = ["edit", str(src), "--repair-backdoor", "--trigger", trig, "--max-drop", "0"]
    assert main([*args, "--out", str(tmp_path / "a.safetensors")]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.strip().startswith("goal:"))
    assert "NOT reached" in line and "over" in line
    assert main([*args, "--out", str(tmp_path / "b.safetensors"), "--json"]) == 0
    details = json.loads(capsys.readouterr().out)["edits"][0]["details"]
    assert details["goal_reached"] is False and details["goal"]["asr_over_goal"] > 0.5
