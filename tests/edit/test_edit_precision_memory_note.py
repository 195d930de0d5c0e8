"""metanet.edit.precision: the printed report says that ``weight_bytes`` (and the compression computed from it) is
the memory at the chosen formats, not the size of the file written, which keeps the network's dtype (simulated
quantisation): bare, ``weight_bytes: 6656 ... compression: 2.846`` printed above ``wrote FILE`` read as a file
2.8 times smaller."""

from __future__ import annotations

import torch
from inspect_helpers import planted_mlp, planted_task
from safetensors import safe_open

from metanet import edit


def test_the_printed_weight_bytes_say_they_are_not_the_files(tmp_path):
    res = edit.precision(planted_mlp(), "0=int8,1=int4", planted_task())
    d = res.report.details
    assert d["weight_bytes"] == 9 * 8 + (4 * 9 * 4 + 7) // 8 and d["weight_bytes_before"] == (9 * 8 + 4 * 9) * 4
    line = next(x for x in str(res.report).splitlines() if x.strip().startswith("weight_bytes:"))
    assert line == (f"  weight_bytes: {d['weight_bytes']}  (the weights stored at the chosen formats; the network and "
                    "its file keep their dtype)")
    path = res.save(tmp_path / "q.safetensors")
    with safe_open(str(path), "pt") as f:  # what the note says: the file holds float32 weights, as before the edit
        weights = [f.get_tensor(k) for k in f.keys() if k.endswith("weight")]
    assert {w.dtype for w in weights} == {torch.float32}
    assert sum(w.numel() * w.element_size() for w in weights) == d["weight_bytes_before"]
