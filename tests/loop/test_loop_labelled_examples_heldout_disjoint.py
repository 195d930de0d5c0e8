"""Labelled examples ``(x, y)`` given to the loop are split as every reader of them splits them (from_examples, seed
0): the loop never writes from, nor rewards on, an example that is a held-out test example of the same data.

They were split with ``seed + i``: ``improve(w, (x, y), heldout=(x, y))`` split the loop task by seed 0 and the
held-out task by seed 10,000, and about half of the held-out test examples (146 of 287 on digits) had conditioned the
writer's candidates or rewarded them; ``improve(..., seed=5)`` then ``generate((x, y))`` likewise.
"""

from __future__ import annotations

import torch

import metanet.loop.core as core
from metanet import tasks
from metanet.loop import as_loop_tasks, improve


def _rows(x: torch.Tensor) -> set[bytes]:
    return {r.numpy().tobytes() for r in x.reshape(len(x), -1)}


def test_the_same_examples_give_the_same_test_split_whatever_the_seed(digits_pool):
    x, y = digits_pool
    test = _rows(tasks.from_examples(x, y).split("test")[0])  # what generate((x, y)) / verify((x, y)) score on
    for seed in (0, 5, 10_000):  # improve's tasks (seed), its heldout (seed + 10_000)
        (lt,) = as_loop_tasks((x, y), seed=seed)
        assert _rows(lt.test[0]) == test
        assert not (_rows(lt.support[0]) | _rows(lt.val[0])) & test


def test_improve_never_writes_from_or_rewards_on_held_out_test_examples(digits_pool, tiny_writer, monkeypatch):
    x, y = digits_pool
    written, scored = set(), set()
    write = tiny_writer.write

    def recording_write(arch, sx, *args, **kw):
        written.update(_rows(sx))
        return write(arch, sx, *args, **kw)

    score = core.score_stacked

    def recording_score(arch, k, params, reward, data, *args, **kw):
        scored.update(_rows(data[0]))
        return score(arch, k, params, reward, data, *args, **kw)

    tiny_writer.write = recording_write
    monkeypatch.setattr(core, "score_stacked", recording_score)
    improve(tiny_writer, (x, y), heldout=(x, y), rounds=1, candidates=2, track=False)
    held_test = _rows(as_loop_tasks((x, y), seed=10_000)[0].test[0])
    assert written and scored
    assert not written & held_test
    assert not scored & held_test
