"""`Generated.save` records the scores of the chosen candidate, not of candidate 0 (the other candidates' validation
scores are in the report, which the file does not hold)."""

from __future__ import annotations

import dataclasses

import metanet
from generated_helpers import fake_generated


def test_the_saved_val_accuracy_is_the_chosen_candidates(tmp_path):
    g = fake_generated()  # candidate 1 of 2 chosen
    cands = [{"val_accuracy": 0.5, "val_loss": 1.0}, {"val_accuracy": 0.875, "val_loss": 0.25}]
    g = dataclasses.replace(g, report=dataclasses.replace(g.report, candidates=cands))
    meta = metanet.load_meta(g.save(tmp_path / "chosen.safetensors"))
    assert (meta["candidate"], meta["candidates"], meta["val_accuracy"]) == (1, 2, 0.875)
