"""A writer fit resumed from a checkpoint sees, step for step, the episodes an uninterrupted fit does: also when the
trainer stops by ``max_steps`` (``--trainer.max_steps``), and from a checkpoint taken mid-epoch."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from metanet.writer.lightning import EpisodeDataModule, WriterModule


class _Seen(Callback):
    """A fingerprint of the episodes of every training step."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[float, ...]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen[trainer.global_step] = tuple(float(ep.support[0].sum()) for ep in batch)


def _fit(tmp, steps: int, fresh: bool, every: int | None, ckpt: str | None = None):
    L.seed_everything(0)
    m = WriterModule(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=3, seed=0, fresh_episodes=fresh)
    # as train/writer.yaml: last.ckpt when validation ends an epoch; or every `every` steps
    ck = (ModelCheckpoint(dirpath=str(tmp), save_last=True, monitor="val/query_acc", mode="max") if every is None
          else ModelCheckpoint(dirpath=str(tmp), save_last=True, every_n_train_steps=every, save_top_k=-1))
    seen = _Seen()
    t = L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=1, callbacks=[ck, seen],
                  deterministic=True)
    t.fit(m, d, ckpt_path=ckpt)
    return m, seen.seen, t


@pytest.mark.parametrize("fresh, every, kill", [(True, None, 3), (False, 2, 2), (True, 2, 4)])
def test_a_resumed_max_steps_fit_equals_an_uninterrupted_one(tmp_path, fresh, every, kill):
    # (True, None, 3): resumed at an epoch's end, Lightning's epoch counter was one ahead when the episodes of
    # the next epoch were drawn: the resumed fit trained on another epoch's episodes.
    # (.., 2, kill): a mid-epoch checkpoint resumed with the epoch's first episodes again.
    full, seen_full, _ = _fit(tmp_path / "a", 6, fresh, every)
    _fit(tmp_path / "b", kill, fresh, every)  # "killed" after `kill` steps
    resumed, seen, t = _fit(tmp_path / "b", 6, fresh, every, ckpt=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 6
    assert seen == {s: v for s, v in seen_full.items() if s >= kill}
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
