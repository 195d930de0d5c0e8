"""Round 27d: a backdoor repair that cannot reach its goal says so in its report (text and JSON), and the
precision edit counts weight bytes from the exact bits (an odd number of int4 weights was half a byte short)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from inspect_helpers import digits_mlp

from metanet import edit, tasks
from metanet.nets import build

ARCH = "mlp:64-16-10:relu:nobias"  # no output bias: the repair cannot recalibrate the target's bias


@pytest.fixture(scope="module")
def clean():
    return digits_mlp(ARCH, epochs=10)


def full_trigger(model) -> dict:
    """Stamps the whole image with 1: every stamped image is the same, so the network sends it to one class."""
    target = int(model(torch.ones(1, 1, 8, 8)).argmax())
    return {"kind": "square", "size": 8, "location": [0, 0], "pattern": [[1] * 8] * 8, "target": target}


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


# ------------------------------------------------------------------------------ weight bytes of int4 regions
def _odd_task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 7, generator=g)
    y = (x[:, 0, 0] > 0.5).long()
    return tasks.from_examples(x, y, name="odd7")


def test_int4_weight_bytes_round_up_per_region():
    task = _odd_task()
    model = build("mlp:7-3-2:relu", seed=0)  # 21 weights (84 bits = 10.5 bytes) and 6 weights
    _, rep = edit.precision(model, "0=int4,1=int4", task)
    d = rep.details
    assert d["weight_bytes"] == 11 + 3  # was (84 + 24) // 8 = 13: half a byte short
    assert d["weight_bytes_before"] == 4 * 27 and d["weight_bytes_fp32"] == 4 * 27
    assert d["compression"] == d["weight_bytes_before"] / d["weight_bytes"]
    # int2 on the 21 weights: 42 bits = 5.25 bytes -> 6; the other region stays float32
    _, rep = edit.precision(model, "0=int2", task)
    assert rep.details["weight_bytes"] == 6 + 4 * 6


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
