"""``improve(log_dir=...)``: every TensorBoard scalar is the History figure it names, at the round it belongs to
(step r = the writer after r updates; the loss at the round whose update it drove)."""

from __future__ import annotations

import pytest

from metanet.loop import improve

TAGS = {"reward/mean": "reward_mean", "reward/best_of_k": "reward_best", "reward/worst": "reward_worst",
        "heldout/accuracy_best_of_k": "heldout_best_of_k", "heldout/accuracy_k1": "heldout_k1",
        "heldout/accuracy_mean_candidate": "heldout_mean", "heldout/accuracy_oracle": "heldout_oracle",
        "candidates/diversity": "diversity", "candidates/winners_kept": "winners", "candidates/broken": "broken",
        "loop/loss": "loss", "reward/tracked_mean": "tracked_reward"}


def test_each_scalar_is_its_history_figure_at_its_round(small, tmp_path):
    from loop_helpers import make_diverse_writer
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, hist = improve(make_diverse_writer(), [small], rounds=1, candidates=3, heldout=[small], log_dir=tmp_path)
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert set(TAGS) <= set(acc.Tags()["scalars"])
    # the figures differ from one another, so a tag written with another's value is seen
    assert hist.rounds[0]["reward_best"] != hist.rounds[0]["reward_worst"]
    assert hist.rounds[0]["heldout_k1"] != hist.rounds[0]["heldout_best_of_k"]
    for tag, key in TAGS.items():
        logged = {e.step: e.value for e in acc.Scalars(tag)}
        expected = {r["round"]: r[key] for r in hist.rounds if r.get(key) is not None}
        assert logged.keys() == expected.keys(), tag
        for step, value in expected.items():
            assert logged[step] == pytest.approx(value, rel=1e-6, abs=1e-7), (tag, step)
