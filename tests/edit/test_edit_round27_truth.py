"""Edit reports and edited files tell the truth (round 27): what is claimed is what the weights are."""

from __future__ import annotations

import copy

import pytest
import torch

from metanet import edit
from metanet.cli import main
from metanet.io import load, load_meta, save
from metanet.nets import build


@pytest.fixture(scope="module")
def net():
    return build("mlp:64-16-10:relu", seed=0)


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
