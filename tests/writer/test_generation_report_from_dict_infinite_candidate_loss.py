"""`GenerationReport.from_dict` after strict JSON: a verified candidate's validation loss of ``inf`` (verify's loss
of NaN/inf logits), made null by ``json_safe``, is read back as ``inf`` (it was NaN: the text said "loss nan"); the
scores of unverified candidates, NaN and null alike, stay NaN."""

from __future__ import annotations

import json
import math

from metanet.io import json_safe
from metanet.writer import GenerationReport


def _round_trip(candidates: list[dict[str, float]]) -> GenerationReport:
    r = GenerationReport(task="t", arch="mlp:4-3-2:relu", support=4, candidates=candidates, chosen=0, test=None,
                         seconds=1.0, seconds_write=0.5)
    return GenerationReport.from_dict(json.loads(json.dumps(json_safe(r.to_dict()), allow_nan=False)))


def test_an_infinite_candidate_loss_survives_the_strict_json_round_trip():
    back = _round_trip([{"val_accuracy": 0.0, "val_loss": math.inf, "val_balanced_accuracy": 0.0},
                        {"val_accuracy": 0.5, "val_loss": 0.25, "val_balanced_accuracy": 0.5}])
    assert back.candidates[0]["val_loss"] == math.inf and back.candidates[1]["val_loss"] == 0.25
    assert "loss inf" in str(back) and "nan" not in str(back)


def test_unverified_candidates_keep_nan_scores():
    back = _round_trip([{"val_accuracy": math.nan, "val_loss": math.nan}] * 2)
    assert all(math.isnan(c["val_accuracy"]) and math.isnan(c["val_loss"]) for c in back.candidates)
    assert "not verified" in str(back)
