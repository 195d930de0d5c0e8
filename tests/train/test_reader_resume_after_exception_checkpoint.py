"""A reader fit on the cosine schedule, resumed from the checkpoint OnExceptionCheckpoint wrote when the fit was
stopped inside a training step, trains on the batches of an uninterrupted fit. The data module records the fit's
training batches in the checkpoint to place the iterator that the schedule makes before Lightning restores its
loops; it recorded Lightning's batches *started*, one more than Lightning counts as done for a step that never
finished (that step is run again on resume), so the resumed fit skipped the interrupted step's networks and trained
every later step on the next batch."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import OnExceptionCheckpoint

from metanet.reader.lightning import ReaderModule

from lightning_helpers import Killed, SeenSteps


def _fit(tmp, data, kill: int | None = None, ckpt: str | None = None):
    L.seed_everything(0)
    m = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4, schedule="cosine")
    seen = SeenSteps(kill)
    t = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, default_root_dir=str(tmp),
                  callbacks=[OnExceptionCheckpoint(str(tmp)), seen])
    if kill is None:
        t.fit(m, data, ckpt_path=ckpt)
    else:
        with pytest.raises(Killed):
            t.fit(m, data, ckpt_path=ckpt)
    return m, seen.seen, t


@pytest.mark.parametrize("kill", [1, 4])  # inside the first epoch, inside the second (3 batches an epoch)
def test_a_fit_resumed_from_its_exception_checkpoint_trains_on_the_batches_of_an_uninterrupted_one(
        tmp_path, tiny_data, kill):
    full, seen_full, _ = _fit(tmp_path / "a", tiny_data)
    _fit(tmp_path / "b", tiny_data, kill=kill)
    assert torch.load(tmp_path / "b" / "on_exception.ckpt", weights_only=True)["global_step"] == kill
    resumed, seen, t = _fit(tmp_path / "b", tiny_data, ckpt=str(tmp_path / "b" / "on_exception.ckpt"))
    assert t.global_step == 6
    assert seen == {s: v for s, v in seen_full.items() if s >= kill}
    a, b = full.reader.state_dict(), resumed.reader.state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k
