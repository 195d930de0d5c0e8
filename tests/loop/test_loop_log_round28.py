"""Round 28: improve's TensorBoard directory: '~' is the home folder, and the event file is closed when a round
raises."""

from __future__ import annotations

from pathlib import Path

import pytest

import metanet.loop.core as core
from metanet.loop import improve


def test_a_log_dir_under_tilde_is_in_the_home_folder(tiny_writer, loop_tasks, home):
    improve(tiny_writer, loop_tasks[0], rounds=0, candidates=2, track=False, log_dir="~/tb")
    assert list((home / "tb").glob("events.out.tfevents.*"))
    assert not (Path.cwd() / "~").exists()  # SummaryWriter made a folder named '~' in the working directory


def test_the_event_file_is_closed_when_a_round_raises(tiny_writer, loop_tasks, tmp_path, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    closed = []
    real_close = SummaryWriter.close
    monkeypatch.setattr(SummaryWriter, "close", lambda self: (closed.append(self), real_close(self))[1])

    def boom(*a, **k):
        raise RuntimeError("a round failed")

    monkeypatch.setattr(core, "round_loss", boom)
    with pytest.raises(RuntimeError, match="a round failed"):
        improve(tiny_writer, loop_tasks[0], rounds=1, candidates=2, track=False, log_dir=tmp_path / "tb")
    assert len(closed) == 1
