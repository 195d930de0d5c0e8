"""`GenerationReport.from_dict` refuses a chosen index one past the last candidate (an off-by-one that str() and
Generated.save would meet as a raw IndexError), and reads the last candidate's index."""

from __future__ import annotations

import pytest

from metanet.errors import FileFormatError
from metanet.writer import GenerationReport

_CANDS = [{"val_accuracy": 0.5, "val_loss": 1.0}, {"val_accuracy": 0.75, "val_loss": 0.5}]
_REPORT = dict(task="digits", arch="mlp:64-8-10:relu", support=50, candidates=_CANDS, chosen=1, test=None,
               seconds=1.0, seconds_write=0.5)


def test_the_last_candidate_is_read_and_one_past_it_is_refused():
    assert "candidate 1: val accuracy 0.7500  loss 0.5000 <- chosen" in str(GenerationReport.from_dict(_REPORT))
    for bad in (2, -1):
        with pytest.raises(FileFormatError, match=rf"chosen candidate must be an index 0\.\.1, got {bad}"):
            GenerationReport.from_dict({**_REPORT, "chosen": bad})
