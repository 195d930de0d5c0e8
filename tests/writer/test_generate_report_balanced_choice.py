"""generate's report states the score its choice was made by: on an imbalanced support set the candidates are chosen
by balanced validation accuracy, and the report gives each candidate's balanced score and says so (it showed plain
accuracy only, with "<- chosen" next to a candidate of lower accuracy than another and no word why)."""

from __future__ import annotations

import json
import warnings

import torch

import metanet
from metanet.writer.generate import GenerationReport


def _imbalanced_digits():
    # 6 examples of each of 5 digits, 80 of each of the other 5: the support is past the balance ratio
    x, y = metanet.tasks.get("digits").split("train")
    idx = torch.cat([torch.nonzero(y == c).flatten()[: (6 if c < 5 else 80)] for c in range(10)])
    return x[idx], y[idx]


def _balanced_accuracy(model, x, y) -> float:
    with torch.no_grad():
        pred = model(x).argmax(1)
    return sum(float((pred[y == c] == c).double().mean()) for c in y.unique()) / len(y.unique())


def test_an_imbalanced_support_reports_each_candidates_balanced_score_and_the_choice_follows_it():
    x, y = _imbalanced_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = metanet.generate((x, y), candidates=4, seed=3)
    r = g.report
    vx, vy = metanet.tasks.resolve((x, y)).split("val")
    for c, net in zip(r.candidates, g.candidates):
        assert abs(c["val_balanced_accuracy"] - _balanced_accuracy(net, vx, vy)) < 1e-12
    # the chosen candidate is the best by the report's own figures (balanced accuracy, then loss)
    assert r.chosen == max(range(4), key=lambda i: (r.candidates[i]["val_balanced_accuracy"],
                                                    -r.candidates[i]["val_loss"]))
    text = str(r)
    assert "chosen by balanced validation accuracy" in text
    assert f"balanced {r.candidates[r.chosen]['val_balanced_accuracy']:.4f}" in text
    back = GenerationReport.from_dict(json.loads(json.dumps(r.to_dict())))  # survives the JSON round trip
    assert back.candidates == r.candidates and str(back) == text


def test_a_balanced_support_reports_plain_accuracy_only():
    g = metanet.generate("digits", candidates=2, seed=0, shots=5)
    assert all(set(c) == {"val_accuracy", "val_loss"} for c in g.report.candidates)
    assert "balanced" not in str(g.report)
