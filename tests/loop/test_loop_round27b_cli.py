"""``metanet refine`` / ``metanet improve`` error paths and saved metadata (round 27b)."""

from __future__ import annotations

from metanet.cli import main
from metanet.io import load_meta, save
from metanet.nets import build


def test_refining_a_refined_network_drops_the_earlier_before_accuracy(tmp_path, capsys):
    """Refined on val, then its output refined on test: the second file kept val_accuracy_before, an accuracy of
    the weights two refinements back, next to no val_accuracy."""
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net a.safetensors", task="digits")
    once, twice = tmp_path / "once.safetensors", tmp_path / "twice.safetensors"
    common = ["--task", "digits", "--steps", "1", "--population", "2"]
    assert main(["refine", str(src), *common, "--split", "val", "--out", str(once)]) == 0
    assert {"val_accuracy_before", "val_accuracy"} <= set(load_meta(once))
    assert main(["refine", str(once), *common, "--split", "test", "--out", str(twice)]) == 0
    capsys.readouterr()
    meta = load_meta(twice)
    assert {"test_accuracy_before", "test_accuracy"} <= set(meta)
    assert not {"val_accuracy_before", "val_accuracy"} & set(meta)
