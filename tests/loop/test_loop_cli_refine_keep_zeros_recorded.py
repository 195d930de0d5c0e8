"""`metanet refine --keep-zeros` records it in the saved file, beside refined_by and refine_steps: without it the
file could not say whether an edit's or a pruning's zeros (its 'edits' history) were kept or refined away."""

from __future__ import annotations

import pytest
import torch

from metanet.cli import main
from metanet.io import load, load_meta, save
from metanet.nets import build


@pytest.mark.parametrize("keep", [True, False])
def test_refine_records_keep_zeros(tmp_path, capsys, keep):
    model = build("mlp:64-8-10:relu", seed=0)
    with torch.no_grad():
        model.layers[0].weight[:4] = 0  # four pruned neurons
    src = save(model, tmp_path / "pruned.safetensors", task="digits")
    out = tmp_path / "refined.safetensors"
    argv = ["refine", str(src), "--task", "digits", "--steps", "2", "--population", "2", "--out", str(out)]
    assert main(argv + (["--keep-zeros"] if keep else [])) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert meta["refine_keep_zeros"] is keep and meta["refined_by"] == "perturbation" and meta["refine_steps"] == 2
    assert bool((load(out).layers[0].weight[:4] == 0).all()) is keep  # what the record says of the weights
