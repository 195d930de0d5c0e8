"""What the inspect database and the edits are documented to do, against an independent computation.

- An edit given a saved network's path (documented: "only read: the edited copy is returned, save it with
  ``result.save(path)``") kept none of the file's metadata: the saved result had no ``task`` (``metanet verify``
  then needed ``--task``) and only this edit in ``edits``, the earlier history gone. ``metanet edit`` kept both.
- The database's figures (activation statistics, selectivity, ablation drops, weight norms, the documented SQL
  query) and the edits' before/after accuracies match a hand-written forward pass, and a refused edit leaves the
  network's tensors as they were.
"""

from __future__ import annotations

import copy
import sqlite3

import pytest
import torch
from inspect_helpers import digits_mlp

import metanet
from metanet import edit, tasks
from metanet.errors import ArchError

ARCH = "mlp:64-16-10:relu"


@pytest.fixture(scope="module")
def net():
    return digits_mlp(ARCH, epochs=5)


def _history(path) -> list[str]:
    return [e["edit"] for e in metanet.load_meta(path)["edits"]]


def test_an_edit_of_a_saved_file_keeps_its_metadata_and_history(net, tmp_path):
    src = tmp_path / "net.safetensors"
    metanet.save(net, src, task="digits", note="hello", test_accuracy=0.5)
    first = edit.remove(src, "1:3", "digits")
    one = first.save(tmp_path / "one.safetensors")
    meta = metanet.load_meta(one)
    assert meta["task"] == "digits" and meta["note"] == "hello" and meta["edited_from"] == str(src)
    # the file's accuracy measured the network before the edit: replaced by the edited one's
    assert meta["test_accuracy"] == first.report.after.accuracy == meta["accuracy_after_edits"]
    assert _history(one) == ["remove"]
    # a chain of edits through files keeps the whole history
    two = edit.prune(one, 0.5, "digits").save(tmp_path / "two.safetensors")
    assert _history(two) == ["remove", "prune"] and metanet.load_meta(two)["edited_from"] == str(one)
    # an explicit meta still wins; a module given as it is has no file metadata to keep
    assert metanet.load_meta(first.save(tmp_path / "bare.safetensors", meta={})).keys() == {"edits",
                                                                                          "accuracy_after_edits"}
    assert "task" not in metanet.load_meta(edit.remove(net, "1:3", "digits").save(tmp_path / "m.safetensors"))
    # the file's metadata is no part of the report's dict or history
    assert "source_meta" not in first.report.to_dict() and "note" not in str(first.report)


def test_database_figures_match_a_hand_computed_forward_pass(net, tmp_path):
    db = metanet.inspect(net, "digits", reader=None)
    x, y = tasks.get("digits").split("test")
    with torch.no_grad():
        h = net.act(net.layers[0](x.flatten(1))).double()
        base = net.layers[1](h.float())
    ok = base.argmax(1) == y
    assert db.meta["accuracy"] == pytest.approx(ok.double().mean().item(), abs=1e-12)
    for j in range(h.shape[1]):
        r, a = db[(1, j)], h[:, j]
        assert r["act_mean"] == pytest.approx(a.mean().item(), abs=1e-6)
        assert r["act_std"] == pytest.approx(a.std(unbiased=False).item(), abs=1e-6)
        assert r["frac_active"] == pytest.approx((a > 0).double().mean().item(), abs=1e-12)  # a fraction, not %
        assert r["dead"] == int(a.std() == 0)
        assert r["in_norm"] == pytest.approx(net.layers[0].weight[j].norm().item(), rel=1e-5)
        assert r["out_norm"] == pytest.approx(net.layers[1].weight[:, j].norm().item(), rel=1e-5)
        cm = torch.stack([a[y == c].mean() for c in range(10)])
        top, rest = cm.max(), (cm.sum() - cm.max()) / 9
        if r["dead"]:  # a constant output: no class, no selectivity
            assert r["top_class"] is None and r["selectivity"] == 0
        else:
            assert r["top_class"] == int(cm.argmax())
            assert r["selectivity"] == pytest.approx(((top - rest) / (top.abs() + rest.abs())).item(), abs=1e-6)
        h2 = h.clone()
        h2[:, j] = 0
        with torch.no_grad():
            ok2 = net.layers[1](h2.float()).argmax(1) == y
        drop = ok2.double().mean().item() - ok.double().mean().item()
        assert r["ablation_acc"] == pytest.approx(drop, abs=1e-12)
        for c in range(10):
            k = (y == c)
            assert r["ablation_per_class"][c] == pytest.approx((ok2[k].double().mean() - ok[k].double().mean()).item(),
                                                               abs=1e-12)
    # the documented SQL query finds exactly the neurons whose zeroing costs class 8 over 5 points
    path = db.save(tmp_path / "db")["sqlite"]
    con = sqlite3.connect(path)
    try:
        hits = con.execute("SELECT layer, idx FROM ablation WHERE class = 8 AND delta < -0.05").fetchall()
        described = dict(con.execute("SELECT name, type FROM columns").fetchall())
    finally:
        con.close()
    assert sorted(hits) == [(1, j) for j in range(h.shape[1]) if db[(1, j)]["ablation_per_class"][8] < -0.05]
    assert list(described) == list(metanet.inspect.COLUMNS)


def test_the_database_ablation_is_what_removing_the_neuron_does(net):
    db = metanet.inspect(net, "digits", reader=None)
    fresh_before = metanet.verify(net, "digits").accuracy
    for j in (0, 5, 11):
        model, rep = edit.remove(net, f"1:{j}", "digits")
        fresh = metanet.verify(model, "digits")
        assert rep.before.accuracy == fresh_before and rep.after.accuracy == fresh.accuracy
        assert fresh.accuracy - fresh_before == pytest.approx(db[(1, j)]["ablation_acc"], abs=1e-12)


@pytest.mark.parametrize("call", [
    lambda m: edit.remove(m, "2:1", "digits", inplace=True),          # no layer 2 in a one-hidden-layer MLP
    lambda m: edit.remove(m, "1:0-15", "digits", inplace=True),       # every neuron of the layer
    lambda m: edit.prune(m, 1.0, "digits", inplace=True),
    lambda m: edit.prune(m, 1.5, "digits", inplace=True),
    lambda m: edit.precision(m, "0=fp8", "digits", inplace=True),
    lambda m: edit.clamp(m, "1:3=0.5;1:4=-1", "digits", inplace=True),  # the second value is refused: neither set
])
def test_a_refused_inplace_edit_leaves_every_tensor_as_it_was(net, call):
    model = copy.deepcopy(net)
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError):
        call(model)
    assert all(torch.equal(kept[k], v) for k, v in model.state_dict().items())
