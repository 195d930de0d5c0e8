"""The loop's scoring of candidates whose outputs are not finite: the lowest reward, and no accuracy (argmax read
their NaN / +inf logits as predictions, which fed the round's val_acc_mean and evaluate's test accuracies)."""

from __future__ import annotations

import math

import torch
from loop_helpers import ARCH, stack_params

from metanet.loop import WORST, AccuracyReward, score_stacked
from metanet.nets import build


def test_a_candidate_whose_logits_overflow_scores_lowest_with_accuracy_0(loop_tasks):
    lt = loop_tasks[0]
    nets = [build(ARCH, seed=s) for s in (0, 1)]
    params = stack_params(nets)
    params = {k: torch.cat([v[:1], v[1:] * 1e30]) for k, v in params.items()}  # candidate 1: finite, overflows
    assert all(torch.isfinite(v).all() for v in params.values())
    r, reports = score_stacked(lt.arch, lt.num_classes, params, AccuracyReward(), lt.val)
    assert r[1] == WORST and r[0] > WORST
    assert reports[1].loss == math.inf and "failed" not in reports[1].extra  # verified, not a crash
    assert reports[1].accuracy == 0.0 and reports[1].per_class == [0.0] * lt.num_classes


class _NanWriter:
    """Writes every candidate with NaN weights."""

    def write(self, arch, x, y, num_classes, candidates=1, seed=0, **kw):
        net = build(arch, seed=0)
        return {k: (v.detach() * math.nan).expand(candidates, *v.shape).clone() for k, v in net.named_parameters()}


def test_evaluate_gives_nan_candidates_no_test_accuracy(small):
    from metanet.loop import evaluate

    out = evaluate(_NanWriter(), [small], candidates=2)
    row = out["tasks"][0]
    # argmax read their NaN logits as class 0: each figure was class 0's share of the test split (0.1)
    assert [row[k] for k in ("best_of_k", "k1", "mean", "oracle")] == [0.0] * 4
    assert row["reward"] == WORST
