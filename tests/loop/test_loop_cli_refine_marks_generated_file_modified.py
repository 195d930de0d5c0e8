"""``metanet refine --out`` on a file written by ``metanet generate`` kept its recipe (``generated_by``, ``candidate``,
``seed``) unmarked: the new file claimed that ``generate`` rebuilds weights the refinement had changed."""

from __future__ import annotations

import pytest

from metanet.cli import main
from metanet.io import load_meta, save
from metanet.nets import build

RECIPE = dict(task="digits", arch="mlp:64-16-10:relu", generated_by="metanet.writer", zero_gradient_steps=True,
              candidate=3, candidates=8, seed=0, shots=None)


@pytest.mark.parametrize("method", ["perturbation", "sgd"])
def test_refined_generated_file_says_it_was_modified_after_generation(tmp_path, capsys, method):
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", **RECIPE)
    out = tmp_path / "refined.safetensors"
    assert main(["refine", str(src), "--task", "digits", "--method", method, "--steps", "1", "--population", "2",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert meta["modified_after_generation"] is True
    assert meta["zero_gradient_steps"] is (method != "sgd")  # perturbation takes no backprop step
    assert meta["candidate"] == 3 and meta["seed"] == 0  # where it started, now marked as such


def test_a_file_not_from_generate_gets_no_generation_mark(tmp_path, capsys):
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    out = tmp_path / "refined.safetensors"
    assert main(["refine", str(src), "--task", "digits", "--steps", "1", "--population", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    assert "modified_after_generation" not in load_meta(out)
