"""What each round of ``improve`` runs on: ``tasks_per_round`` tasks, cycling through the loop tasks without skipping
one; every round (and every task in it) its own candidates' seed, while the held-out evaluation and the tracked
reward score the same fixed starting points every round (so rounds compare the writer, not the draw)."""

from __future__ import annotations

import metanet.loop.core as core
from metanet.loop import LoopTask, improve


def _tasks(small, n):
    return [LoopTask(f"t{i}", small.arch, small.num_classes, small.support, small.val, small.test) for i in range(n)]


def test_tasks_per_round_cycles_through_every_task_and_every_round_has_its_own_seed(small, tiny_writer, monkeypatch):
    seen = []

    def fake_round(writer, batch, cfg, reward, seed):
        seen.append(([lt.name for lt in batch], seed))
        return None, {"tasks": len(batch), "tasks_with_loss": 0}

    monkeypatch.setattr(core, "round_loss", fake_round)
    improve(tiny_writer, _tasks(small, 3), rounds=3, candidates=2, tasks_per_round=2, track=False)
    assert [names for names, _ in seen] == [["t0", "t1"], ["t2", "t0"], ["t1", "t2"], ["t0", "t1"]]
    assert len({seed for _, seed in seen}) == 4


def test_every_task_of_a_round_gets_its_own_seed(small, tiny_writer, monkeypatch):
    seeds = []
    real = core._task_loss

    def spy(writer, lt, cfg, reward, seed):
        seeds.append(seed)
        return real(writer, lt, cfg, reward, seed)

    monkeypatch.setattr(core, "_task_loss", spy)
    core.round_loss(tiny_writer, _tasks(small, 2), core.LoopConfig(candidates=2), core.make_reward(None), 7)
    assert len(seeds) == 2 and len(set(seeds)) == 2


def test_heldout_and_tracked_scores_use_the_same_starting_points_every_round(small, tiny_writer, monkeypatch):
    evaluated, tracked = [], []
    real_eval, real_track = core.evaluate, core.tracked_reward

    def spy_eval(writer, tasks, **kw):
        evaluated.append(kw["seed"])
        return real_eval(writer, tasks, **kw)

    def spy_track(writer, tasks, candidates, reward, seed, *a):
        tracked.append(seed)
        return real_track(writer, tasks, candidates, reward, seed, *a)

    monkeypatch.setattr(core, "evaluate", spy_eval)
    monkeypatch.setattr(core, "tracked_reward", spy_track)
    improve(tiny_writer, [small], rounds=2, candidates=2, heldout=[small])
    assert len(evaluated) == len(tracked) == 3
    assert len(set(evaluated)) == 1 and len(set(tracked)) == 1
