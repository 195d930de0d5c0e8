"""The demo's ``pruned.safetensors`` keeps what its ``generated.safetensors`` records (task, class names), as
``metanet edit`` keeps a file's metadata: the demo pruned the in-memory module, so its pruned file named no task and
``metanet verify metanet-demo/pruned.safetensors`` (README: "default: the task the file records") was an error.
The prune stage runs alone here, on a small network, not in a full demo run."""

from __future__ import annotations

import metanet
import metanet.demo as demo
from metanet.cli import main
from metanet.io import load_meta, tensorboard_writer
from metanet.nets.models import build


def test_pruned_file_records_the_generated_networks_task(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "PRUNE_SPARSITIES", (0.0, 0.7))  # the curve's ends only: this test is about the file
    out = tmp_path / "demo"
    out.mkdir()
    model = build("mlp:784-8-10:relu", seed=0)
    names = [str(i) for i in range(10)]
    metanet.save(model, out / "generated.safetensors", task="mnist", class_names=names)  # as the generate stage
    with tensorboard_writer(out / "tb") as tb:
        r = demo._stage_prune(demo._Run(progress=False, verbose=False), out, model, demo._Log(tb), print)
    meta = load_meta(out / "pruned.safetensors")
    assert meta["task"] == "mnist" and meta["class_names"] == names
    assert meta["edits"][-1]["edit"] == "prune"
    assert meta["test_accuracy"] == r["test_accuracy_after"]  # the pruned network's, not the generated one's
    capsys.readouterr()
    assert main(["verify", str(out / "pruned.safetensors")]) == 0  # no --task needed
    assert capsys.readouterr().out.startswith("mnist/test: accuracy ")
