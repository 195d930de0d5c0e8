"""`metanet.generate` on a task with validation examples but no test split (``tasks.from_examples(...,
test_fraction=0)``): the candidates are chosen on the validation split and the report has no test score; verifying
the chosen network on the empty test split would raise "split 'test' ... has no examples to verify on"."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

import metanet


def test_no_test_split_gives_a_report_without_a_test_score(untrained, tmp_path):
    d = load_digits()
    x, y = torch.tensor(d.data[:60] / 16.0, dtype=torch.float32), torch.tensor(d.target[:60])
    task = metanet.tasks.from_examples(x, y, test_fraction=0)
    assert task.sizes()["test"] == 0 and task.sizes()["val"] > 0
    g = metanet.generate(task, arch="mlp:64-16-10:relu", candidates=2, writer=untrained)
    assert g.report.test is None and "test accuracy" not in str(g.report)
    assert g.report.candidates[g.report.chosen]["val_accuracy"] >= 0  # verified: chosen on the validation split
    meta = metanet.load_meta(g.save(tmp_path / "g.safetensors"))
    assert meta["test_accuracy"] is None and meta["val_accuracy"] is not None
