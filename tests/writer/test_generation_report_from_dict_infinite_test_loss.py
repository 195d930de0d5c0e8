"""`GenerationReport.from_dict` after strict JSON: a test loss of ``inf`` (verify's loss of NaN/inf logits), made
null by ``json_safe``, is read back as ``inf``, not NaN."""

from __future__ import annotations

import json
import math

from metanet.io import json_safe
from metanet.verify import Report
from metanet.writer import GenerationReport


def test_an_infinite_test_loss_survives_the_strict_json_round_trip():
    test = Report(accuracy=0.0, loss=math.inf, per_class=[0.0, math.nan], n=4, seconds=0.1)
    r = GenerationReport(task="t", arch="mlp:4-3-2:relu", support=4, candidates=[{"val_accuracy": 0.0,
                         "val_loss": math.inf}], chosen=0, test=test, seconds=1.0, seconds_write=0.5)
    back = GenerationReport.from_dict(json.loads(json.dumps(json_safe(r.to_dict()), allow_nan=False)))
    assert back.test.loss == math.inf and math.isnan(back.test.per_class[1])
