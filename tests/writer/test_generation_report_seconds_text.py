"""A GenerationReport's "written in X s" counts loading the task, its data and the writer too (~1 s cold against
~0.08 s for the writer's pass): the text said "written in 1.00 s" as if that were the write alone."""

import math

from metanet.verify import Report
from metanet.writer.generate import GenerationReport


def _report(verified: bool) -> GenerationReport:
    nan = {"val_accuracy": math.nan, "val_loss": math.nan}
    return GenerationReport(
        task="digits", arch="mlp:4-3-2:relu", support=20, chosen=0, seconds=1.25, seconds_write=1.0,
        candidates=[{"val_accuracy": 0.5, "val_loss": 1.0} if verified else nan],
        test=Report(accuracy=0.75, loss=0.5, per_class=[0.5, 1.0], n=4, seconds=0.1) if verified else None)


def test_the_text_says_what_the_written_seconds_include():
    assert "written in 1.00 s (loading the task and writer included), 1.25 s with verification" in str(_report(True))
    text = str(_report(False))
    assert "written in 1.00 s (loading the task and writer included), not verified" in text


def test_the_docstring_says_what_each_seconds_field_counts():
    doc = " ".join(GenerationReport.__doc__.split())
    assert "``seconds_write``: wall-clock seconds from the call until the candidates' weights exist" in doc
    assert "``seconds``: the whole call" in doc
