"""Backdoor repair (`metanet.edit.repair`) on a small network trained here with a planted trigger, on clean
networks and on awkward calibration splits; triggers (`metanet.edit.trigger`: parsing, stamping, triggers that do
not fit the image); and the `metanet edit` command."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from inspect_helpers import backdoored_digits_mlp, digits_mlp, planted_mlp, planted_task

from metanet import edit, tasks
from metanet.cli import main
from metanet.edit.repair import _cut, anomaly_index, blind_supports, fit_imputer
from metanet.edit.trigger import as_trigger, triggered_set
from metanet.errors import TaskError
from metanet.io import load, load_meta, save
from metanet.nets import build
from metanet.zoo.backdoor import apply_trigger
from metanet.zoo.backdoor import apply_trigger as zoo_apply  # named apart from edit.apply_trigger in the tests

# the zoo's trigger format: a 2x2 square in the bottom-right corner of the 8x8 digits, forcing class 3
TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "pattern": [[1, 1], [1, 1]], "target": 3,
           "poison_rate": 0.1}
# the same square without its pattern or poison rate: what a user writes by hand
SQUARE = {"kind": "square", "size": 2, "location": [6, 6], "target": 3}


@pytest.fixture(scope="module")
def backdoored():
    return backdoored_digits_mlp(TRIGGER)


def test_repair_with_the_known_trigger(backdoored):
    model, rep = edit.repair_backdoor(backdoored, "digits", TRIGGER)
    assert rep.asr_before > 0.7  # the backdoor works
    assert rep.asr_after <= 0.10 and rep.accuracy_change >= -0.01  # the goal: ASR <= 10%, drop <= 1 point
    assert rep.details["backdoor_found"] and rep.details["neurons"]
    assert edit.attack_success_rate(model, "digits", TRIGGER) == pytest.approx(rep.asr_after)
    assert "attack success rate" in str(rep)
    # the trigger's pixels were disconnected from every first-layer neuron (their part imputed from the other
    # pixels): stamping the trigger no longer changes anything the network computes
    first = rep.details["rounds"][0]
    assert first["strategy"] == "cut" and first["imputed"] and len(first["neurons"]) == 32
    assert sorted(first["inputs"]) == [54, 55, 62, 63]
    x, _ = tasks.get("digits").split("test")
    assert torch.allclose(model(apply_trigger(x, TRIGGER)), model(x))
    assert not torch.allclose(backdoored(apply_trigger(x, TRIGGER)), backdoored(x))


def test_blind_repair_reconstructs_the_trigger(backdoored):
    model, rep = edit.repair_backdoor(backdoored, "digits", TRIGGER, blind=True)
    first = rep.details["rounds"][0]
    assert first["reconstruction"]["suspect"] == TRIGGER["target"]
    assert first["trigger"]["kind"] == "reconstructed"
    assert rep.asr_after < rep.asr_before / 2
    assert rep.accuracy_change >= -0.015


@pytest.mark.parametrize("blind", [False, True])
def test_a_clean_network_is_not_degraded(blind):
    model, rep = edit.repair_backdoor(digits_mlp(), "digits", TRIGGER, blind=blind)
    assert rep.accuracy_change >= -0.01  # the controls' budget: at most 1 point
    assert rep.asr_after <= 0.10


def test_a_network_biased_to_the_target_gets_its_output_recalibrated():
    """A trigger "succeeds" on a network that already gives most inputs to the target class: the repair lowers
    the target's output bias (within the accuracy budget; here it restores the accuracy)."""
    biased = copy.deepcopy(digits_mlp())
    with torch.no_grad():
        biased.layers[-1].bias[TRIGGER["target"]] += 8.0
    model, rep = edit.repair_backdoor(biased, "digits", TRIGGER)
    assert rep.asr_before > 0.4 and rep.asr_after <= 0.10
    assert "bias" in rep.details["strategy"] and rep.accuracy_change > 0.3
    shift = next(r["output_bias"] for r in rep.details["rounds"] if r.get("output_bias"))
    assert shift["class"] == 3 and shift["delta"] < 0
    assert float(model.layers[-1].bias.detach()[3]) == pytest.approx(
        float(biased.layers[-1].bias.detach()[3]) + shift["delta"], abs=1e-5)


def test_anomaly_index_flags_the_class_with_the_outlying_small_mask():
    logs = torch.tensor([[3.0, 3.1, 2.9, 3.0, 1.0], [3.0, 2.0, 4.0, 3.0, 3.5]])
    a = anomaly_index(logs)
    assert a.shape == logs.shape and int(a[0].argmax()) == 4 and a[0, 4] > 3 > a[1].max()
    # rows are independent: the batched call is the per-row call
    assert torch.equal(a[1], anomaly_index(logs[1]))
    assert torch.isfinite(anomaly_index(torch.zeros(4))).all()  # equal norms: MAD 0, floored


def test_imputed_cut_is_exact_on_a_linear_relation():
    """Pixel 5 is the mean of pixels 4 and 6: cut with its imputation, a layer computes the same on clean
    inputs and ignores any change of pixel 5; excluded pixels are never used to impute."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(400, 1, 4, 4, generator=g)
    x[:, 0, 1, 1] = 0.5 * (x[:, 0, 1, 0] + x[:, 0, 1, 2])
    pixels = torch.tensor([5])
    src, coef, off = fit_imputer(x, pixels, ridge=1e-9)
    assert 5 not in src.tolist() and coef.shape == (1, 15)
    assert coef[0, src.tolist().index(4)] == pytest.approx(0.5, abs=1e-3)
    assert coef[0, src.tolist().index(6)] == pytest.approx(0.5, abs=1e-3)
    layer = torch.nn.Linear(16, 3)
    w, b = layer.weight.detach().clone(), layer.bias.detach().clone()
    _cut(w, b, torch.arange(3), pixels, off, (src, coef))
    xf = x.flatten(1)
    assert torch.allclose(xf @ w.T + b, layer(xf).detach(), atol=1e-4) and bool((w[:, 5] == 0).all())
    stamped = xf.clone()
    stamped[:, 5] = 1.0
    assert torch.equal(stamped @ w.T + b, xf @ w.T + b)
    src2, _, _ = fit_imputer(x, torch.tensor([6]), exclude=pixels)
    assert 5 not in src2.tolist() and 6 not in src2.tolist()  # a cut pixel stays disconnected


def test_blind_supports_cover_a_partial_reconstruction():
    """A reconstruction that found only two corners of a 3x3 patch: the candidate regions include its box."""
    mask = torch.zeros(1, 8, 8)
    mask[0, 2, 3] = mask[0, 4, 5] = 1.0
    regions = [set(r.tolist()) for r in blind_supports({"kind": "reconstructed", "mask": mask, "target": 0}, (1, 8, 8))]
    patch = {r * 8 + c for r in range(2, 5) for c in range(3, 6)}
    assert patch in regions and any(patch < r for r in regions)


def test_a_clean_network_is_left_alone():
    clean = digits_mlp()
    model, rep = edit.repair_backdoor(clean, "digits", TRIGGER)
    assert rep.asr_before < 0.1 and rep.details["neurons"] == []
    assert all(torch.equal(a, b) for a, b in zip(clean.state_dict().values(), model.state_dict().values()))


@pytest.mark.parametrize(
    "trigger, message",
    [
        ({"size": 2, "location": [7, 7], "target": 1}, r"does not fit 8x8 images; valid locations: rows 0..6"),
        ({"size": 2, "location": [0, 0]}, "no 'target'"),
        ({"size": 2, "location": [0, 0], "target": 12}, r"not a class of the task \(0..9\)"),
        ('{"size": 2,', "not valid JSON"),
        ({"size": 2, "location": [0, 0], "target": 1, "kind": "random"}, "needs its 'pattern'"),
    ],
)
def test_trigger_errors(trigger, message):
    with pytest.raises(TaskError, match=message):
        edit.repair_backdoor(digits_mlp(), "digits", trigger)


def test_trigger_from_a_zoo_row_and_a_file(tmp_path):
    row = {"trigger": {k: v for k, v in TRIGGER.items() if k != "target"}, "target": 3, "asr": 0.97}
    assert edit.as_trigger(row, (1, 8, 8), 10)["location"] == [6, 6]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"pos": [1, 2], "size": 3, "kind": "checker", "target": 0}))
    t = edit.as_trigger(str(path), (1, 8, 8), 10)
    assert t["location"] == [1, 2] and t["pattern"][0] == [1, 0, 1]


def test_a_trigger_file_that_is_not_text_or_json_too_deep_is_a_task_error(tmp_path):
    # were UnicodeDecodeError (`metanet edit net.safetensors --trigger net.safetensors`) and RecursionError
    binary = tmp_path / "net.safetensors"
    binary.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}\xd8\xff\xfe")
    with pytest.raises(TaskError, match=r"trigger file '.*net.safetensors' is not text \(not UTF-8\); expected a JSON "
                                        r"file holding \{\"size\""):
        edit.as_trigger(str(binary), (1, 8, 8), 10)
    deep = '{"target": 1, "pattern": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(TaskError, match=r"trigger is not valid JSON \(maximum recursion depth exceeded"):
        edit.as_trigger(deep, (1, 8, 8), 10)


def test_cli_edit_chain_history_and_atomic_output(tmp_path, backdoored, capsys):
    src = tmp_path / "bd.safetensors"
    save(backdoored, src, task="digits", backdoor=TRIGGER)
    out = tmp_path / "fixed.safetensors"
    rc = main(["edit", str(src), "--out", str(out), "--repair-backdoor", "--remove", "1:0", "--prune", "0.3",
               "--precision", "0=int8,1=fp16"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.count("edit: ") == 4 and "attack success rate" in text  # the trigger came from the metadata
    meta = load_meta(out)
    assert [e["edit"] for e in meta["edits"]] == ["repair-backdoor", "remove", "prune", "precision"]
    assert meta["edited_from"] == str(src) and meta["backdoor"] == TRIGGER
    model = load(out)
    assert float(model.layers[0].weight[0].detach().abs().sum()) == 0
    assert edit.attack_success_rate(model, "digits", TRIGGER) == pytest.approx(meta["edits"][-1]["asr"][1])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--remove", "1:0-31"], "would leave it with no working unit"),
        (["--remove", "0:1"], "layer '0' is not a hidden layer"),
        (["--precision", "0=int8,2=fp16"], "region '2' does not exist"),
        (["--prune", "1"], "sparsity 1.0 is not valid"),
        (["--scale", "1:1"], "needs a factor"),
        (["--remove", "1:1", "--precision", "7=int8"], "region '7' does not exist"),  # a later edit fails
    ],
)
def test_cli_edit_errors_write_nothing(tmp_path, capsys, args, message):
    src = tmp_path / "net.safetensors"
    save(digits_mlp(), src, task="digits")
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]


def test_cli_edit_needs_an_edit(tmp_path, capsys):
    src = tmp_path / "net.safetensors"
    save(planted_mlp(), src)
    assert main(["edit", str(src), "--task", "digits", "--out", str(tmp_path / "o.safetensors")]) == 2
    assert "no edit given" in capsys.readouterr().err


def test_api_save_appends_history(tmp_path):
    model, rep = edit.remove(planted_mlp(), "1:5", planted_task())
    path = edit.EditResult(model, rep).save(tmp_path / "a.safetensors", meta={"edits": [{"edit": "earlier"}]})
    meta = load_meta(path)
    assert [e["edit"] for e in meta["edits"]] == ["earlier", "remove"]
    assert meta["edits"][1]["accuracy"] == [1.0, 0.75]
    assert torch.equal(load(path).layers[0].weight, model.layers[0].weight)


@pytest.mark.parametrize("kw, message", [({"max_asr": float("nan")}, "max_asr nan is not valid"),
                                         ({"max_drop": -1}, "max_drop -1 is not valid: a fraction in"),
                                         ({"max_rounds": 0}, "max_rounds 0 is not valid")])
def test_repair_budgets_outside_their_range_are_refused(kw, message):
    from metanet.errors import ArchError

    with pytest.raises(ArchError, match=message):
        edit.repair_backdoor(digits_mlp(), "digits", **kw)



_RECON = {"kind": "reconstructed", "mask": torch.zeros(1, 8, 8), "pattern": torch.zeros(1, 8, 8), "target": 3}


@pytest.mark.parametrize(
    "trigger, message",
    [
        ({**_RECON, "mask": torch.full((1, 8, 8), 2.0)}, r"mask values must lie in \[0, 1\]"),
        ({**_RECON, "mask": torch.full((1, 8, 8), float("nan"))}, r"mask values must lie in \[0, 1\]"),
        ({**_RECON, "mask": torch.ones(1, 4, 4)}, r"mask has shape \(1, 4, 4\)"),
        ({**_RECON, "pattern": torch.full((1, 8, 8), float("nan"))}, "pattern has NaN or infinite values"),
        ({**_RECON, "mask": "abc"}, "reconstructed trigger 'mask' is not numeric"),
        ({"size": 2, "location": [6, 6], "target": 2.7}, "trigger target 2.7 is not a class index"),
        ({"size": 2, "location": [6, 6], "target": True}, "trigger target True is not a class index"),
        ({"size": 2, "location": [6, 6], "target": float("inf")}, "trigger target inf is not a class index"),
        ('{"size": 2, "location": [6, 6], "target": Infinity}', "not a class index"),
        ({"size": 2.5, "location": [6, 6], "target": 3}, "malformed"),
        ({"size": float("inf"), "location": [6, 6], "target": 3}, "malformed"),
        ({"size": 2, "location": [5.5, 6], "target": 3}, "malformed"),
        ({"size": 2, "location": [6, 6], "pattern": [[1, 1], [1]], "target": 3}, "pattern is not a size x size"),
        ({"size": 2, "location": [6, 6], "pattern": "ab", "target": 3}, "pattern is not a size x size"),
    ],
)
def test_malformed_triggers_are_refused_with_a_clear_error(trigger, message):
    with pytest.raises(TaskError, match=message):
        edit.as_trigger(trigger, (1, 8, 8), 10)


def test_integral_trigger_numbers_of_any_type_are_accepted():
    t = edit.as_trigger({"size": 2.0, "location": [torch.tensor(6), 6.0], "target": "3"}, (1, 8, 8), 10)
    assert t["size"] == 2 and t["location"] == [6, 6] and t["target"] == 3
    r = edit.as_trigger({**_RECON, "mask": torch.zeros(8, 8)}, (1, 8, 8), 10)  # a mask shared over channels
    assert r["mask"].shape == (8, 8)


@pytest.mark.parametrize("kw, message", [({"max_examples": 0}, r"max_examples 0 is not valid: a whole number >= 1"),
                                         ({"max_examples": -1}, r"max_examples -1 is not valid"),
                                         ({"alphas": ()}, r"alphas \(\) is not valid: one or more factors in \[0, 1\]"),
                                         ({"alphas": (0.0, 2.0)}, r"alphas \(0.0, 2.0\) is not valid"),
                                         ({"alphas": (float("nan"),)}, r"alphas \(nan,\) is not valid")])
def test_repair_search_settings_outside_their_range_are_refused(kw, message):
    """max_examples=0 used to calibrate on no examples and report "nothing to repair" on a working backdoor;
    alphas=() crashed in the masked pass; an alpha of 2 amplified the trigger's neurons."""
    from metanet.errors import ArchError

    with pytest.raises(ArchError, match=message):
        edit.repair_backdoor(digits_mlp(), "digits", TRIGGER, **kw)


def test_apply_trigger_reads_any_trigger_as_trigger_does():
    # a square without its pattern and the zoo's 'pos' spelling were a raw KeyError in edit.apply_trigger
    x = torch.rand(4, 1, 8, 8)
    full = {**SQUARE, "pattern": [[1, 1], [1, 1]]}
    want = zoo_apply(x, full)
    assert torch.equal(edit.apply_trigger(x, SQUARE), want)
    assert torch.equal(edit.apply_trigger(x, {"size": 2, "pos": [6, 6], "target": 3, "kind": "square"}), want)
    assert torch.equal(edit.apply_trigger(x, json.dumps(SQUARE)), want)
    assert torch.equal(edit.apply_trigger(x[0], SQUARE), want[0])  # one image (C, H, W), as the zoo's stamps it
    y = torch.tensor([3, 0, 1, 3])
    assert torch.equal(triggered_set(x, y, json.dumps(SQUARE)), want[y != 3])


@pytest.mark.parametrize("location", [[7, 7], [-1, 0], [0, 8]])
def test_apply_trigger_outside_the_image_is_a_task_error(location):
    # was a raw RuntimeError from a shape mismatch (or, for -1, a patch stamped at a wrapped-around place)
    with pytest.raises(TaskError, match=r"does not fit 8x8 images; valid locations: rows 0\.\.6, cols 0\.\.6"):
        edit.apply_trigger(torch.rand(2, 1, 8, 8), {**SQUARE, "location": location})


def test_trigger_larger_than_the_image_names_the_valid_sizes():
    with pytest.raises(TaskError, match=r"size 3 is larger than the task's 2x2 images; valid sizes: 1\.\.2"):
        as_trigger({"size": 3, "location": [0, 0], "target": 0}, (1, 2, 2))
    # checked before the default pattern is built: a typo'd size does not build size**2 values first
    with pytest.raises(TaskError, match="larger than"):
        as_trigger({"size": 10**6, "location": [0, 0], "target": 0}, (1, 8, 8))


def test_negative_target_is_refused_without_a_task():
    # -1 passed when no num_classes was known, and then x[y != -1] stamped every example
    with pytest.raises(TaskError, match=r"trigger target -1 is not a class index"):
        as_trigger({**SQUARE, "target": -1})


@pytest.mark.parametrize("size", [2**70, 10**5])
def test_a_huge_trigger_without_an_image_shape_is_refused(size):
    # 2**70 was a raw OverflowError building the default pattern; 10**5 built ten billion values
    with pytest.raises(TaskError, match=r"larger than any patch trigger \(valid: 1\.\.4096 pixels\)"):
        as_trigger({**SQUARE, "size": size})


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"square"'])
def test_json_that_is_not_an_object_says_so(text):
    with pytest.raises(TaskError, match=r"^a trigger must be a JSON object"):
        as_trigger(text)


def test_known_trigger_that_fails_on_a_clean_network_is_no_backdoor_found():
    # the trigger does nothing on this clean network: the report said backdoor_found True, strategy none
    model, rep = edit.repair_backdoor(digits_mlp(), "digits", SQUARE)
    assert rep.asr_before <= 0.10
    assert rep.details["backdoor_found"] is False and rep.details["target"] == 3
    assert rep.details["strategy"] == [] and rep.details["neurons"] == []
    assert rep.after.accuracy == rep.before.accuracy
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), digits_mlp().state_dict().values()))


def test_repair_with_an_empty_calibration_split_is_a_task_error():
    # val empty: every repair read as "the trigger does not work here" and returned the network unchanged
    g = torch.Generator().manual_seed(0)
    task = tasks.from_examples(torch.rand(60, 1, 8, 8, generator=g), torch.arange(60) % 3, val_fraction=0)
    model = build("mlp:64-8-3:relu", seed=0)
    with pytest.raises(TaskError, match=r"split 'val' of task .* has no examples to choose the repair on \(calib_split\)"):
        edit.repair_backdoor(model, task, {**SQUARE, "target": 1})
    rep = edit.repair_backdoor(model, task, {**SQUARE, "target": 1}, calib_split="train").report
    assert rep.details["mode"] == "known trigger"


def test_blind_false_without_a_trigger_is_refused():
    # blind=False with no trigger silently ran the blind reconstruction
    with pytest.raises(TaskError, match=r"blind=False needs the known trigger"):
        edit.repair_backdoor(digits_mlp(), "digits", blind=False)


def test_repair_never_empties_a_layer_that_has_neurons_removed_already():
    # channels 1 and 2 carry the trigger to the target; channel 0 was removed by an earlier edit. Removing both
    # 1 and 2 was chosen (the only variant meeting the goal) and then refused by the removal itself: the repair
    # died with "removing 2 channel(s) of layer 1 would leave it with no working channel", an edit never asked for
    model = build("cnn:1-3-10:relu:k3:s2:nobias", seed=0)
    with torch.no_grad():
        model.layers[0].weight.zero_()
        model.layers[0].weight[1:] = 1.0
        model.layers[1].weight.zero_()
        model.layers[1].weight[1, 1:] = 1.0
    trigger = {"size": 3, "location": [0, 0], "kind": "square", "target": 1}
    result = edit.repair_backdoor(model, "digits", trigger, max_drop=1.0, max_fraction=1.0, max_rounds=1)
    edited = result.model.layers[0].weight
    assert any(bool(edited[c].any()) for c in range(3))  # a working channel is left
    for n in result.report.details["neurons"]:
        assert n in ("1:1", "1:2")
    assert len(result.report.details["neurons"]) <= 1
    assert result.report.details["goal_reached"] is False  # said plainly, not an error
