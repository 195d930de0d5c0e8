"""`metanet.loop.evaluate` as its docstring states it: per task i, the K candidates of seed ``seed + i`` are rewarded
by the selection, and ``best_of_k`` is the test accuracy of the chosen one of THOSE candidates, re-written (same
seed) from every labelled example. Rewarding another seed's candidates (or every task's with one seed) reported the
test accuracy of whichever candidate happened to share the index, while every bound it is checked against
(``best_of_k <= oracle``) still held."""

from __future__ import annotations

import torch

from metanet.loop import evaluate
from metanet.loop.rewards import make_reward
from metanet.loop.select import candidate_rewards
from metanet.verify import predicted
from metanet.writer.lightning import written_logits


def test_best_of_k_is_the_test_accuracy_of_the_candidate_the_selection_chose(loop_tasks, diverse_writer):
    tasks, k, seed = loop_tasks[:3], 4, 5
    ev = evaluate(diverse_writer, tasks, candidates=k, seed=seed, selection="val")
    for i, (lt, row) in enumerate(zip(tasks, ev["tasks"])):
        s = seed + i
        with torch.no_grad():
            r, _ = candidate_rewards(diverse_writer, lt, k, make_reward(None), "val", 5, s)
            written = diverse_writer.write(lt.arch, *lt.labelled(), lt.num_classes, candidates=k, seed=s)
            acc = (predicted(written_logits(lt.arch, written, lt.test[0])) == lt.test[1]).double().mean(1)
        j = int(torch.argmax(r))
        assert row["chosen"] == j, f"task {i}"
        assert row["best_of_k"] == acc[j].item() and row["oracle"] == acc.max().item()
        assert row["reward"] == r.mean().item()
