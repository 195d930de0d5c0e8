"""A backdoor repair's report tells what each round did (round 27c): a round that changed nothing was labelled
"remove"/"scale", and scale rounds that compound (0.5 three times) gave no overall factor."""

from __future__ import annotations

import json

import pytest
import torch
from inspect_helpers import digits_mlp

from metanet import edit
from metanet.cli import main
from metanet.edit import repair
from metanet.io import save

ARCH = "mlp:64-16-10:relu:nobias"  # no output bias: the repair cannot recalibrate the target's bias


@pytest.fixture(scope="module")
def clean():
    return digits_mlp(ARCH, epochs=10)


def full_trigger(model) -> dict:
    """A trigger stamping the whole image with 1: every stamped image is the same, so the network sends it to
    one class (the target) whatever it was, and no pixel is left to impute a cut from (no ``cut`` variant)."""
    target = int(model(torch.ones(1, 1, 8, 8)).argmax())
    return {"kind": "square", "size": 8, "location": [0, 0], "pattern": [[1] * 8] * 8, "target": target}


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


# ------------------------------------------------------------------------------ precision of awkward rows
@pytest.mark.parametrize("fmt", ["int8", "int4", "int2"])
def test_integer_quantisation_keeps_rows_of_tiny_weights(fmt):
    # a float16 row of weights ~1e-6: its scale (1e-6 / 127) underflowed in float16, and the row became zeros;
    # a float32 row of subnormal weights was zeroed by a clamp of the scale at 1e-30
    for dtype, size in ((torch.float16, 1e-6), (torch.float32, 1e-40)):
        w = torch.tensor([[size, -size, 0.0], [0.0, 0.0, 0.0], [1.0, -0.5, 0.25]], dtype=dtype)
        q = edit.quantize(w, fmt)
        assert q.dtype == dtype and bool(torch.isfinite(q).all())
        # the row's largest values are kept at any bit width (to the rounding of a subnormal scale)
        assert torch.allclose(q[0], w[0], rtol=1e-3, atol=0) and bool((q[0, :2] != 0).all()), (dtype, q[0])
        assert torch.equal(q[1], torch.zeros(3, dtype=dtype))  # an all-zero row stays zeros (no 0/0 NaN)


def test_int8_on_a_float32_row_is_unchanged_by_the_float16_fix():
    w = torch.randn(4, 9, generator=torch.Generator().manual_seed(0))
    sc = w.abs().amax(1, keepdim=True) / 127
    assert torch.equal(edit.quantize(w, "int8"), (w / sc).round().clamp(-127, 127) * sc)
