"""A ``Generated`` as ``metanet.generate`` returns it, built without running the writer (fast)."""

from __future__ import annotations

import math

from metanet.nets import build
from metanet.verify import Report
from metanet.writer.generate import GenerationReport, Generated

ARCH = "mlp:4-3-2:relu"


def fake_generated() -> Generated:
    """Two candidates of :data:`ARCH` (seeds 0 and 1), the second chosen, with a complete report."""
    nets = [build(ARCH, seed=s) for s in range(2)]
    report = GenerationReport(
        task="digits", arch=ARCH, support=20, chosen=1, seconds=1.0, seconds_write=0.5, seed=0, shots=2,
        candidates=[{"val_accuracy": 0.5, "val_loss": 1.0}, {"val_accuracy": math.nan, "val_loss": math.nan}],
        test=Report(accuracy=0.75, loss=0.5, per_class=[0.5, 1.0], n=4, seconds=0.1),
        writer={"source": "in-memory"},
    )
    return Generated(nets[1], report, nets)
